import { DEFAULT_ANNOUNCER_OPTIONS } from './announcer.js';

export type AnnounceTiming = { burstMs: number[]; refreshMs: number };

/**
 * Reads the gratuitous announcement timing: `ANNOUNCE_BURST_MS` (comma-separated delays after
 * takeover) and `ANNOUNCE_REFRESH_MS` (0 turns the refresh off). Errors name the variable.
 */
export function readAnnounceTiming(
  env: NodeJS.ProcessEnv,
): { ok: true; value: AnnounceTiming } | { ok: false; error: string } {
  let burstMs = DEFAULT_ANNOUNCER_OPTIONS.burstMs;
  if (env.ANNOUNCE_BURST_MS !== undefined) {
    const parts = env.ANNOUNCE_BURST_MS.split(',').map((p) => p.trim());
    const values = parts.map(Number);
    const bad = parts.find(
      (p, i) => p === '' || !Number.isInteger(values[i]) || values[i]! < 0 || values[i]! > 600_000,
    );
    if (bad !== undefined || parts.length === 0) {
      return {
        ok: false,
        error: `ANNOUNCE_BURST_MS "${env.ANNOUNCE_BURST_MS}": "${bad ?? ''}" is not a delay in whole milliseconds (0-600000)`,
      };
    }
    burstMs = values;
  }
  let refreshMs = DEFAULT_ANNOUNCER_OPTIONS.refreshMs;
  if (env.ANNOUNCE_REFRESH_MS !== undefined) {
    refreshMs = Number(env.ANNOUNCE_REFRESH_MS);
    if (!Number.isInteger(refreshMs) || refreshMs < 0) {
      return {
        ok: false,
        error: `ANNOUNCE_REFRESH_MS "${env.ANNOUNCE_REFRESH_MS}" must be whole milliseconds >= 0 (0 = no refresh)`,
      };
    }
    if (refreshMs > 0 && refreshMs < 1000) {
      return {
        ok: false,
        error: `ANNOUNCE_REFRESH_MS "${env.ANNOUNCE_REFRESH_MS}" is below 1000: that floods the segment; use 0 to turn the refresh off`,
      };
    }
  }
  return { ok: true, value: { burstMs, refreshMs } };
}
