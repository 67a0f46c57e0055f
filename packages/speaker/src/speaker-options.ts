import type { SettingValues, SPEAKER_SETTINGS } from '@metallb-ts/manifests';
import type { SpeakerOptions } from './speaker.js';

/** The speaker's parsed settings (`readSettings(SPEAKER_SETTINGS, env)`). */
export type SpeakerSettings = SettingValues<(typeof SPEAKER_SETTINGS)['defs']>;

/** What the Speaker is built with, from its settings. */
export function speakerOptions(s: SpeakerSettings): SpeakerOptions {
  return {
    nodeName: s.nodeName,
    namespace: s.namespace,
    exclude: s.interfaceExclude,
    membership: { renewMs: s.membershipRenewMs, leaseDurationMs: s.membershipLeaseMs },
    announcer: { burstMs: s.announceBurstMs, refreshMs: s.announceRefreshMs },
    ignoreExcludeLabel: s.ignoreExcludeLb,
    ...(s.loadBalancerClass ? { loadBalancerClass: s.loadBalancerClass } : {}),
  };
}
