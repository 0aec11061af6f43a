import Docker from 'dockerode';

/**
 * For `test(name, { skip: await dockerSkipReason() }, ...)`. Without Docker the tests are skipped
 * with a loud reason locally, but under CI a missing Docker is a failure, never a skip.
 */
export async function dockerSkipReason(): Promise<string | false> {
  try {
    await new Docker().ping();
    return false;
  } catch (err) {
    const reason = `Docker Engine is not reachable (${(err as Error).message}): the real-container tests cannot run`;
    if (process.env.CI) throw new Error(`${reason}. CI must run them: start dockerd.`, { cause: err });
    process.stderr.write(`\n*** SKIPPING DOCKER TESTS: ${reason}. Start dockerd to run them. ***\n\n`);
    return reason;
  }
}
