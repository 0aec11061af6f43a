import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';

/** Gateway opcodes the fake speaks. */
const OP = { dispatch: 0, heartbeat: 1, identify: 2, resume: 6, invalidSession: 9, hello: 10, heartbeatAck: 11 } as const;

interface GatewayFrame {
  op: number;
  d?: unknown;
  s?: number | null;
  t?: string | null;
}

interface SentEvent {
  s: number;
  t: string;
  d: unknown;
}

interface Session {
  id: string;
  seq: number;
  /** Every dispatch of the session, replayed after a RESUME from the client's last seen seq. */
  events: SentEvent[];
  socket: WebSocket | undefined;
}

export interface FakeGatewayOptions {
  /** The token IDENTIFY and RESUME must carry; anything else is closed with 4004. */
  token: () => string;
  heartbeatIntervalMs: number;
  /** The READY payload for a new session (session_id and resume_gateway_url are filled in). */
  ready: () => Record<string, unknown>;
  /** Dispatches sent right after READY, e.g. GUILD_CREATE. */
  afterReady: () => { t: string; d: unknown }[];
}

/**
 * Discord's gateway on a `ws` server: HELLO, IDENTIFY -> READY, heartbeats ACKed, RESUME with
 * replay of what was missed (or INVALID_SESSION for an unknown session), dispatches to the live session.
 */
export class FakeDiscordGateway {
  /** Counters a test can assert on. */
  heartbeatAcks = 0;
  identifies = 0;
  resumes = 0;
  /** When set, IDENTIFY is answered with this close code (e.g. 4004, 4014) instead of READY. */
  refuseIdentifyWith: number | undefined;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sessions = new Map<string, Session>();
  private current: Session | undefined;
  private nextSession = 1;
  private url = '';

  constructor(private readonly opts: FakeGatewayOptions) {
    this.wss.on('connection', (socket) => this.onConnection(socket));
  }

  /** Serves the gateway on `path` of the fake's HTTP server; returns its ws:// URL. */
  attach(server: Server, baseUrl: string, path: string): string {
    this.url = `${baseUrl.replace(/^http/, 'ws')}${path}`;
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!req.url?.startsWith(path)) return void socket.destroy();
      this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req));
    });
    return this.url;
  }

  /** A session is identified (or resumed) and its socket is open. */
  get live(): boolean {
    return this.current?.socket?.readyState === WebSocket.OPEN;
  }

  /** Sends an event to the current session; kept for replay if its socket is down. */
  dispatch(t: string, d: unknown): void {
    const session = this.current;
    if (!session) throw new Error('no gateway session: the client has not identified');
    this.sendEvent(session, t, d);
  }

  /** Closes every gateway socket with `code`: 4000 lets the client resume, 1000 makes it identify anew. */
  drop(code = 4000): void {
    for (const ws of this.wss.clients) ws.close(code, 'fake gateway drop');
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private onConnection(socket: WebSocket): void {
    this.send(socket, { op: OP.hello, d: { heartbeat_interval: this.opts.heartbeatIntervalMs } });
    socket.on('message', (raw: RawData) => this.onFrame(socket, JSON.parse(raw.toString()) as GatewayFrame));
    socket.on('close', () => {
      for (const s of this.sessions.values()) if (s.socket === socket) s.socket = undefined;
    });
  }

  private onFrame(socket: WebSocket, frame: GatewayFrame): void {
    const d = (frame.d ?? {}) as Record<string, unknown>;
    switch (frame.op) {
      case OP.heartbeat:
        this.heartbeatAcks++;
        return this.send(socket, { op: OP.heartbeatAck });
      case OP.identify:
        return this.identify(socket, d);
      case OP.resume:
        return this.resume(socket, d);
      default:
        return;
    }
  }

  private identify(socket: WebSocket, d: Record<string, unknown>): void {
    this.identifies++;
    if (d.token !== this.opts.token()) return void socket.close(4004, 'Authentication failed.');
    if (this.refuseIdentifyWith !== undefined) return void socket.close(this.refuseIdentifyWith, 'refused by the fake');
    const session: Session = { id: `session-${this.nextSession++}`, seq: 0, events: [], socket };
    this.sessions.set(session.id, session);
    this.current = session;
    this.sendEvent(session, 'READY', { ...this.opts.ready(), session_id: session.id, resume_gateway_url: this.url });
    for (const e of this.opts.afterReady()) this.sendEvent(session, e.t, e.d);
  }

  private resume(socket: WebSocket, d: Record<string, unknown>): void {
    const session = this.sessions.get(String(d.session_id));
    if (d.token !== this.opts.token()) return void socket.close(4004, 'Authentication failed.');
    if (!session) return this.send(socket, { op: OP.invalidSession, d: false });
    this.resumes++;
    session.socket = socket;
    this.current = session;
    const seen = Number(d.seq ?? 0);
    for (const e of session.events) if (e.s > seen) this.send(socket, { op: OP.dispatch, ...e });
    this.sendEvent(session, 'RESUMED', {});
  }

  private sendEvent(session: Session, t: string, d: unknown): void {
    const event = { s: ++session.seq, t, d };
    session.events.push(event);
    if (session.socket) this.send(session.socket, { op: OP.dispatch, ...event });
  }

  private send(socket: WebSocket, frame: GatewayFrame): void {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ s: null, t: null, ...frame }));
  }
}
