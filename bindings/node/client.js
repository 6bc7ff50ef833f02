'use strict';
class SihliconClient {}
module.exports = { SihliconClient };
