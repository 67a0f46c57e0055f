/**
 * Polls an assertion until it passes (every `intervalMs`, up to `timeoutMs`); after the deadline
 * the assertion's own error is thrown, so a failure says what was expected and what was seen.
 */
export async function eventually(
  check: () => void | Promise<void>,
  { timeoutMs = 2000, intervalMs = 5 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}
