import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { serveBytes, type FileServing } from './file-serving.js';

/**
 * WhatsApp's media host (mmg.whatsapp.net) on 127.0.0.1: serves encrypted media by direct path and
 * records every request with the Host it named. dispatcher() is a connection pool whose every
 * connection, whatever host Baileys asks for, reaches this server (plain HTTP: TLS is not the subject).
 */
export class FakeWhatsAppMedia {
  readonly requests: { host: string | undefined; path: string }[] = [];
  private readonly files = new Map<string, { data: Buffer; serving: FileServing }>();
  private readonly server: Server;

  private constructor() {
    this.server = createServer((req, res) => {
      const path = req.url ?? '/';
      this.requests.push({ host: req.headers.host, path });
      const file = this.files.get(path.split('?')[0]!);
      if (!file) return void res.writeHead(404).end();
      serveBytes(res, file.data, file.serving);
    });
  }

  static async start(): Promise<FakeWhatsAppMedia> {
    const fake = new FakeWhatsAppMedia();
    await new Promise<void>((r) => fake.server.listen(0, '127.0.0.1', r));
    return fake;
  }

  add(directPath: string, encrypted: Buffer, serving: FileServing = 'normal'): void {
    this.files.set(directPath, { data: encrypted, serving });
  }

  dispatcher = (): Agent => {
    const port = (this.server.address() as AddressInfo).port;
    return new Agent({ connect: (_opts, done) => {
      const socket = connect(port, '127.0.0.1', () => done(null, socket));
      socket.once('error', (err) => done(err, null));
    } });
  };

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
