// SPDX-License-Identifier: Apache-2.0
//
// hub.subscribe(listener, options): follows the hub's event log (include/sihlicon/events.hpp)
// across processes. Each event another process (or this one) commits reaches `listener` once,
// in sequence order, starting after `options.after` (default: the events to come). The
// waiting happens on the addon's thread pool (hub.waitForEvents), one wait of at most a
// second at a time, so stop() takes effect within a second and the hub's close() is not
// held longer than that.
'use strict';

function install(Hub) {
  Hub.prototype.subscribe = function subscribe(listener, options = {}) {
    if (typeof listener !== 'function') {
      throw new TypeError('listener: must be a function');
    }
    const hub = this;
    const read = {
      limit: options.limit ?? 100,
      principal: options.principal ?? 'operator',
      workerId: options.workerId,
    };
    // Default: the events to come (after the last one in the log now).
    let after = options.after ?? hub.lastEventSequence();
    let stopped = false;
    const done = (async () => {
      while (!stopped && !hub.isClosed()) {
        const events = await hub.waitForEvents({ ...read, after, timeoutMs: 1000 });
        for (const event of events) {
          if (stopped) {
            return;
          }
          after = event.sequence;
          listener(event);
        }
      }
    })();
    return {
      // The sequence of the last event delivered (where a later subscribe may resume).
      get position() {
        return after;
      },
      // Stops delivering; the Promise settles once the last wait has ended (rejects with
      // the error that ended the follow, if one did).
      stop() {
        stopped = true;
        return done;
      },
      done,
    };
  };
}

module.exports = { install };
