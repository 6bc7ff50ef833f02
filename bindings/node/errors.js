// SPDX-License-Identifier: Apache-2.0
//
// The package's error type. The addon throws (and rejects with) SihliconError; `code` is one
// of ErrorCode's values, `field` names the input at fault when there is one (absent otherwise).
'use strict';

// The names of the library's error codes (ErrorCode in include/sihlicon/error.hpp).
const ErrorCode = Object.freeze({
  INVALID_ARGUMENT: 'invalid_argument',
  NOT_FOUND: 'not_found',
  CONFLICT: 'conflict',
  PERMISSION_DENIED: 'permission_denied',
  QUOTA_EXCEEDED: 'quota_exceeded',
  INSUFFICIENT_FUNDS: 'insufficient_funds',
  INTEGRITY: 'integrity',
  IO: 'io',
  BUSY: 'busy',
  INTERNAL: 'internal',
});

class SihliconError extends Error {
  constructor(message, code, field) {
    super(message);
    this.name = 'SihliconError';
    if (code !== undefined) this.code = code;
    if (field) this.field = field;
  }
}

module.exports = { ErrorCode, SihliconError };
