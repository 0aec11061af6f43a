import type { Clock } from '../../src/clock.js';

/**
 * Real time, shifted so the test starts at 12:00 UTC of today: budget windows cannot roll over
 * midnight in the middle of a test, whenever it runs.
 */
export function middayClock(): Clock {
  const start = Date.now();
  const noon = new Date(start);
  noon.setUTCHours(12, 0, 0, 0);
  const shift = noon.getTime() - start;
  return () => Date.now() + shift;
}
