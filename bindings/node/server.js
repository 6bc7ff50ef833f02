// SPDX-License-Identifier: Apache-2.0
//
// Server: the hub on the network (include/sihlicon/server.hpp) from Node.
//
//   const server = new Server(hub, { address: '127.0.0.1', port: 0 });
//   const port = await server.start();
//   const { secret } = hub.createToken('ann', 'client');   // Authorization: Bearer <secret>
//   ...
//   await server.stop();                                    // or hub.close(), which stops it
//
// The options are the library's codec (ServerOptions::from_json): address, port (0: a free
// one), tlsCertificate and tlsPrivateKey (PEM files: HTTPS), maxConnections, headerLimit,
// bodyLimit, readTimeoutMs, writeTimeoutMs, idleTimeoutMs, threads, maintenanceIntervalMs (how
// often the server seals a due epoch; 0: never); an unknown key or a value
// out of its type's range throws SihliconError naming it at construction, the rest (an address
// that is not an IP literal, one TLS file alone, a limit below its minimum) rejects start().
// `accessLog(line)` receives one line per request.
'use strict';

class Server {
  #native;
  #address;
  #tls;

  constructor(hub, options = {}) {
    if (hub === null || typeof hub !== 'object' || typeof hub._server !== 'function') {
      throw new TypeError('hub: an open sihlicon Hub is required (await Hub.open(directory))');
    }
    if (options === null || typeof options !== 'object') {
      throw new TypeError('options: an object is required');
    }
    const { accessLog, ...rest } = options;
    this.#native = hub._server(JSON.stringify(rest), accessLog);
    this.#address = typeof rest.address === 'string' ? rest.address : '127.0.0.1';
    this.#tls = rest.tlsCertificate !== undefined && rest.tlsCertificate !== null;
  }

  // Listens and serves; resolves to the port (the one chosen when port 0 was asked for).
  start() {
    return this.#native.start();
  }

  // The port listened on; 0 when not running.
  get port() {
    return this.#native.port();
  }

  get running() {
    return this.#native.running();
  }

  // "http(s)://ADDRESS:PORT" of the running server.
  get url() {
    const host = this.#address.includes(':') ? `[${this.#address}]` : this.#address;
    return `${this.#tls ? 'https' : 'http'}://${host}:${this.port}`;
  }

  // Stops accepting, lets the requests in flight finish, closes every connection. Idempotent;
  // a stopped server cannot be started again.
  stop() {
    return this.#native.stop();
  }
}

module.exports = { Server };
