/**
 * WebSocket close codes the server sends. 1000-2999 are the protocol's own (RFC 6455 §7.4.1,
 * sent by ws itself for protocol errors); 4000-4999 are private, defined here and in docs/serving.md.
 *
 * | code | who sends it | meaning |
 * | ---: | --- | --- |
 * | 1001 | server | shutting down (`close()`, SIGINT/SIGTERM) |
 * | 1002 | ws | protocol error: bad frame, bad opcode, unmasked client frame (raw garbage) |
 * | 1007 | ws | a text message that is not valid UTF-8 |
 * | 1009 | ws | a message larger than the endpoint's maxPayload |
 * | 4008 | server | slow consumer: a /forecasts subscriber stayed behind longer than `slowCloseMs` |
 */
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_SLOW_CONSUMER = 4008;
