/**
 * @internal Building blocks the other Strata packages share. Not part of the public API: no semver
 * promise, may change in any release. Import from `@strata-cache/core/internal`.
 * @packageDocumentation
 */
export type { DecodedChannelBody } from './channel-codec.ts'
export { decodeChannelBody, encodeChannelBody } from './channel-codec.ts'
export { ChannelHandlers } from './channel-handlers.ts'
export { DEFAULT_MAX_MESSAGE_BYTES } from './channels.ts'
export type { DeadlineInfo, DeadlineOptions } from './deadline.ts'
export { withDeadline } from './deadline.ts'
export { parseOptionalDuration } from './duration.ts'
export { assertKnownOptions } from './errors.ts'
export { CacheEvents } from './events.ts'
export type { GlobMatch, GlobMatchCounter } from './glob-match.ts'
export { compileGlob, globMatcher } from './glob-match.ts'
export { ListenerSet, reportListenerError } from './listener-set.ts'
export { tierHealth, tierStats } from './tier-report.ts'
