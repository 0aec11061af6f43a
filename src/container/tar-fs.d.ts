/** The part of tar-fs 2.x (a dependency of dockerode) that image.ts uses. */
declare module 'tar-fs' {
  import type { Readable } from 'node:stream';

  export interface PackOptions {
    /** OR-ed into every directory / file mode. */
    dmode?: number;
    fmode?: number;
    /** Mask applied to modes; defaults to the process umask. */
    umask?: number;
    dereference?: boolean;
  }

  export function pack(dir: string, options?: PackOptions): Readable;

  const tar: { pack: typeof pack };
  export default tar;
}
