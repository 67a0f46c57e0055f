import type { MembershipKind, SettingValues, SPEAKER_SETTINGS } from '@metallb-ts/manifests';
import type { SpeakerOptions } from './speaker.js';

/** The speaker's parsed settings (`readSettings(SPEAKER_SETTINGS, env)`). */
export type SpeakerSettings = SettingValues<(typeof SPEAKER_SETTINGS)['defs']>;

/** Which membership the speaker runs, with its own settings. */
export type MembershipChoice =
  | { kind: Extract<MembershipKind, 'gossip'>; port: number; bindAddress: string; secret: string }
  | { kind: Extract<MembershipKind, 'lease'>; renewMs: number; leaseDurationMs: number };

/** What the Speaker is built with, from its settings. */
export function speakerOptions(s: SpeakerSettings): SpeakerOptions {
  return {
    nodeName: s.nodeName,
    namespace: s.namespace,
    exclude: s.interfaceExclude,
    announcer: { burstMs: s.announceBurstMs, refreshMs: s.announceRefreshMs },
    ignoreExcludeLabel: s.ignoreExcludeLb,
    ...(s.loadBalancerClass ? { loadBalancerClass: s.loadBalancerClass } : {}),
  };
}

export function membershipChoice(s: SpeakerSettings): MembershipChoice {
  return s.membership === 'lease'
    ? { kind: 'lease', renewMs: s.membershipRenewMs, leaseDurationMs: s.membershipLeaseMs }
    : {
        kind: 'gossip',
        port: s.memberlistPort,
        bindAddress: s.memberlistBindAddress,
        secret: s.memberlistSecret,
      };
}
