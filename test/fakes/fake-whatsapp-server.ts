import { createCipheriv, createDecipheriv, createHash, hkdfSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  Curve,
  NOISE_MODE,
  WA_CERT_DETAILS,
  decodeBinaryNode,
  encodeBinaryNode,
  proto,
  type BinaryNode,
  type KeyPair,
} from '@whiskeysockets/baileys';
import { waitFor } from '../helpers/wait.js';

/**
 * A stand-in for web.whatsapp.com on 127.0.0.1: it plays the server side of WhatsApp's Noise XX
 * handshake (with a certificate chain signed by a test root key that start() installs as
 * Baileys' trusted WA_CERT_DETAILS.PUBLIC_KEY), then offers pairing refs, which makes real
 * Baileys show a QR, and records every node the client sends (e.g. a pairing-code request).
 * It cannot deliver chat messages: those are end-to-end encrypted; the adapter's message
 * handling is tested through fake-whatsapp-socket.ts instead.
 */
export class FakeWhatsAppServer {
  /** Nodes the clients sent after the handshake, in arrival order (all connections). */
  readonly received: BinaryNode[] = [];
  /** Each completed handshake: the client's static Noise key and its ClientPayload (registration or login). */
  readonly handshakes: ClientHandshake[] = [];
  private readonly sessions = new Map<WebSocket, ServerSession>();

  private constructor(
    private readonly wss: WebSocketServer,
    private readonly keys: ServerKeys,
    private readonly trustedRootBefore: typeof WA_CERT_DETAILS.PUBLIC_KEY,
    /** The pairing refs offered to each new client; Baileys shows one QR per ref, then closes (timedOut). */
    private readonly refs: string[],
  ) {}

  static async start(opts: { refs?: string[] } = {}): Promise<FakeWhatsAppServer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/ws/chat' });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    const keys = makeServerKeys();
    const trustedRootBefore = WA_CERT_DETAILS.PUBLIC_KEY;
    WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(keys.root.public);
    const server = new FakeWhatsAppServer(wss, keys, trustedRootBefore, opts.refs ?? ['ref-one', 'ref-two', 'ref-three']);
    wss.on('connection', (ws) => server.accept(ws));
    return server;
  }

  /** What to put in the adapter's `socketUrl`. */
  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}/ws/chat`;
  }

  /** Resolves with the first received node (past or future) that matches. */
  waitForNode(what: string, match: (node: BinaryNode) => boolean): Promise<BinaryNode> {
    return waitFor(what, () => this.received.find(match));
  }

  /** Sends a node to every connected client that finished its handshake. */
  broadcast(node: BinaryNode): void {
    for (const session of this.sessions.values()) session.sendIfReady(node);
  }

  /** Drops every client connection as a network failure would. */
  dropAll(): void {
    for (const ws of this.sessions.keys()) ws.terminate();
  }

  async close(): Promise<void> {
    WA_CERT_DETAILS.PUBLIC_KEY = this.trustedRootBefore;
    for (const ws of this.sessions.keys()) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private accept(ws: WebSocket): void {
    const session = new ServerSession(ws, this.keys, {
      onHandshake: (handshake) => {
        this.handshakes.push(handshake);
        if (handshake.payload.devicePairingData) session.send(pairDeviceIq(this.refs));
      },
      onNode: (node) => {
        this.received.push(node);
        if (node.tag === 'iq' && node.attrs.type !== 'result' && node.attrs.type !== 'error') session.send(iqResult(node));
      },
    });
    this.sessions.set(ws, session);
    let arrivals = Promise.resolve();
    ws.on('message', (data: Buffer) => {
      arrivals = arrivals.then(() => session.receive(data)).catch(() => ws.terminate());
    });
    ws.on('close', () => this.sessions.delete(ws));
  }
}

interface ServerKeys {
  root: KeyPair;
  /** The server's static Noise key, certified by the leaf certificate. */
  static: KeyPair;
  /** The encoded CertChain sent in the ServerHello payload. */
  certChain: Uint8Array;
}

/** root -> intermediate (issuer serial WA_CERT_DETAILS.SERIAL) -> leaf for the static key. */
function makeServerKeys(): ServerKeys {
  const root = Curve.generateKeyPair();
  const intermediate = Curve.generateKeyPair();
  const staticKey = Curve.generateKeyPair();
  const Details = proto.CertChain.NoiseCertificate.Details;
  const intermediateDetails = Details.encode({ serial: 1, issuerSerial: WA_CERT_DETAILS.SERIAL, key: intermediate.public }).finish();
  const leafDetails = Details.encode({ serial: 2, issuerSerial: 1, key: staticKey.public }).finish();
  const certChain = proto.CertChain.encode({
    intermediate: { details: intermediateDetails, signature: Curve.sign(root.private, intermediateDetails) },
    leaf: { details: leafDetails, signature: Curve.sign(intermediate.private, leafDetails) },
  }).finish();
  return { root, static: staticKey, certChain };
}

export interface ClientHandshake {
  /** The client's static Noise key (Baileys' creds.noiseKey.public). */
  clientStatic: Buffer;
  payload: proto.IClientPayload;
}

interface SessionEvents {
  onHandshake(handshake: ClientHandshake): void;
  onNode(node: BinaryNode): void;
}

/** One client connection: the intro header, the handshake, then encrypted binary nodes. */
class ServerSession {
  private inBytes = Buffer.alloc(0);
  private sawIntro = false;
  private readonly handshake = new HandshakeState();
  private readonly ephemeral = Curve.generateKeyPair();
  private transport: { fromClient: DirectionCipher; toClient: DirectionCipher } | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly keys: ServerKeys,
    private readonly events: SessionEvents,
  ) {}

  async receive(data: Buffer): Promise<void> {
    this.inBytes = Buffer.concat([this.inBytes, data]);
    if (!this.sawIntro && !this.readIntro()) return;
    for (;;) {
      if (this.inBytes.length < 3) return;
      const size = this.inBytes.readUIntBE(0, 3);
      if (this.inBytes.length < size + 3) return;
      const frame = this.inBytes.subarray(3, size + 3);
      this.inBytes = this.inBytes.subarray(size + 3);
      await this.onFrame(frame);
    }
  }

  send(node: BinaryNode): void {
    if (!this.transport) throw new Error('the handshake is not finished');
    this.writeFrame(this.transport.toClient.encrypt(encodeBinaryNode(node)));
  }

  sendIfReady(node: BinaryNode): void {
    if (this.transport) this.send(node);
  }

  /** 'WA' + version + dictionary version, optionally preceded by an 'ED' routing header. */
  private readIntro(): boolean {
    let offset = 0;
    if (this.inBytes.length >= 7 && this.inBytes.toString('latin1', 0, 2) === 'ED') offset = 7 + this.inBytes.readUIntBE(4, 3);
    if (this.inBytes.length < offset + 4) return false;
    const header = this.inBytes.subarray(offset, offset + 4);
    if (header.toString('latin1', 0, 2) !== 'WA') throw new Error('not a WhatsApp Noise intro');
    this.handshake.mixHash(header);
    this.inBytes = this.inBytes.subarray(offset + 4);
    this.sawIntro = true;
    return true;
  }

  private async onFrame(frame: Buffer): Promise<void> {
    if (this.transport) {
      this.events.onNode(await decodeBinaryNode(this.transport.fromClient.decrypt(frame)));
      return;
    }
    const message = proto.HandshakeMessage.decode(frame);
    if (message.clientHello?.ephemeral) this.answerHello(Buffer.from(message.clientHello.ephemeral));
    else if (message.clientFinish?.static && message.clientFinish.payload) this.finish(message.clientFinish);
    else throw new Error('unexpected handshake message');
  }

  /** -> e, <- e, ee, s, es (+ certificate chain as payload). */
  private answerHello(clientEphemeral: Buffer): void {
    const hs = this.handshake;
    hs.mixHash(clientEphemeral);
    hs.mixHash(this.ephemeral.public);
    hs.mixKey(Curve.sharedKey(this.ephemeral.private, clientEphemeral));
    const encryptedStatic = hs.encryptAndHash(this.keys.static.public);
    hs.mixKey(Curve.sharedKey(this.keys.static.private, clientEphemeral));
    const payload = hs.encryptAndHash(this.keys.certChain);
    const hello = proto.HandshakeMessage.encode({ serverHello: { ephemeral: this.ephemeral.public, static: encryptedStatic, payload } }).finish();
    this.writeFrame(hello);
  }

  /** -> s, se (+ ClientPayload); then both sides split into transport keys. */
  private finish(clientFinish: proto.HandshakeMessage.IClientFinish): void {
    const hs = this.handshake;
    const clientStatic = hs.decryptAndHash(Buffer.from(clientFinish.static!));
    hs.mixKey(Curve.sharedKey(this.ephemeral.private, clientStatic));
    const payload = proto.ClientPayload.decode(hs.decryptAndHash(Buffer.from(clientFinish.payload!)));
    const [clientToServer, serverToClient] = hs.split();
    this.transport = { fromClient: new DirectionCipher(clientToServer), toClient: new DirectionCipher(serverToClient) };
    this.events.onHandshake({ clientStatic, payload });
  }

  private writeFrame(data: Uint8Array): void {
    const frame = Buffer.alloc(3 + data.byteLength);
    frame.writeUIntBE(data.byteLength, 0, 3);
    frame.set(data, 3);
    this.ws.send(frame);
  }
}

/** The symmetric part of Noise as WhatsApp runs it: SHA-256 transcript, HKDF chaining, AES-GCM. */
class HandshakeState {
  private hash: Buffer;
  private chainingKey: Buffer;
  private key: Buffer;
  private nonce = 0;

  constructor() {
    const mode = Buffer.from(NOISE_MODE);
    this.hash = mode.byteLength === 32 ? mode : sha256(mode);
    this.chainingKey = this.hash;
    this.key = this.hash;
  }

  mixHash(data: Uint8Array): void {
    this.hash = sha256(Buffer.concat([this.hash, data]));
  }

  mixKey(sharedSecret: Uint8Array): void {
    [this.chainingKey, this.key] = hkdf2(sharedSecret, this.chainingKey);
    this.nonce = 0;
  }

  encryptAndHash(plaintext: Uint8Array): Buffer {
    const cipher = createCipheriv('aes-256-gcm', this.key, nonceIv(this.nonce++));
    cipher.setAAD(this.hash);
    const out = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    this.mixHash(out);
    return out;
  }

  decryptAndHash(ciphertext: Buffer): Buffer {
    const out = gcmDecrypt(this.key, nonceIv(this.nonce++), ciphertext, this.hash);
    this.mixHash(ciphertext);
    return out;
  }

  /** [client -> server key, server -> client key]. */
  split(): [Buffer, Buffer] {
    return hkdf2(Buffer.alloc(0), this.chainingKey);
  }
}

class DirectionCipher {
  private counter = 0;
  constructor(private readonly key: Buffer) {}

  encrypt(plaintext: Uint8Array): Buffer {
    const cipher = createCipheriv('aes-256-gcm', this.key, nonceIv(this.counter++));
    return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  }

  decrypt(ciphertext: Buffer): Buffer {
    return gcmDecrypt(this.key, nonceIv(this.counter++), ciphertext, Buffer.alloc(0));
  }
}

function gcmDecrypt(key: Buffer, iv: Buffer, ciphertext: Buffer, aad: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(aad);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  return Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()]);
}

function nonceIv(counter: number): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(counter, 8);
  return iv;
}

function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

function hkdf2(inputKey: Uint8Array, salt: Buffer): [Buffer, Buffer] {
  const out = Buffer.from(hkdfSync('sha256', inputKey, salt, Buffer.alloc(0), 64));
  return [out.subarray(0, 32), out.subarray(32)];
}

function pairDeviceIq(refs: string[]): BinaryNode {
  return {
    tag: 'iq',
    attrs: { from: 's.whatsapp.net', type: 'set', id: 'pair-device-1', xmlns: 'md' },
    content: [{ tag: 'pair-device', attrs: {}, content: refs.map((ref) => ({ tag: 'ref', attrs: {}, content: Buffer.from(ref) })) }],
  };
}

function iqResult(request: BinaryNode): BinaryNode {
  return { tag: 'iq', attrs: { from: 's.whatsapp.net', type: 'result', id: request.attrs.id ?? '' } };
}
