import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { systemClock, type Clock } from '../clock.js';

export interface ConnectionSlotsOptions {
  /** Connections open at once; the runner's long-poll always gets one of them. */
  max: number;
  /** A connection with no request in flight for this long is closed. */
  idleMs: number;
  /** A connection whose response has not moved a byte towards its reader for this long is closed. */
  stallMs: number;
  /** A request other than the long-poll that has not been answered in this long is closed. */
  responseTimeoutMs: number;
  clock?: Clock;
}

/** What startRequest decided: go on, refuse (no slot left), or the connection was closed (a second request while one is in flight). */
export type RequestAdmission = 'admitted' | 'busy' | 'pipelined';

interface Slot {
  socket: Socket;
  /** The one request in flight on this connection, if any. */
  request: 'poll' | 'other' | undefined;
  requestStarted: number;
  lastActive: number;
  /** Bytes written towards the reader when last looked at, and since when that number has not moved. */
  written: number;
  stalledSince: number;
}

/**
 * Holds a group socket's connections within a small number without letting any of them lock the
 * runner out: one request at a time per connection (a pipelined second request closes it); a
 * connection idle past idleMs, one whose reader stopped reading for stallMs, and one whose request
 * is unanswered past responseTimeoutMs are closed; a new connection at the limit replaces the
 * longest-idle one, or else one whose responses are stuck; and requests other than the runner's
 * long-poll may busy all slots but one.
 */
export class ConnectionSlots {
  private readonly slots = new Map<Socket, Slot>();
  private readonly clock: Clock;

  constructor(private readonly opts: ConnectionSlotsOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  attach(server: Server): void {
    server.on('connection', (socket: Socket) => this.admit(socket));
  }

  /** Marks a request in flight on its connection until its response is done. */
  startRequest(socket: Socket, isPoll: boolean, onDone: (cb: () => void) => void): RequestAdmission {
    const slot = this.slots.get(socket);
    if (!slot) return 'admitted';
    if (slot.request !== undefined) {
      this.close(slot);
      return 'pipelined';
    }
    if (!isPoll && this.requestsOtherThanPoll() >= this.opts.max - 1) return 'busy';
    const now = this.clock();
    slot.request = isPoll ? 'poll' : 'other';
    slot.requestStarted = now;
    slot.written = socket.bytesWritten;
    slot.stalledSince = now;
    onDone(() => {
      slot.request = undefined;
      slot.lastActive = this.clock();
    });
    return 'admitted';
  }

  /**
   * Closes every connection idle past idleMs, whose reader has not taken a byte for stallMs, or
   * whose request (other than the long-poll) is unanswered past responseTimeoutMs; returns how many.
   * A timer calls this; the stall is measured between calls.
   */
  reap(): number {
    let reaped = 0;
    for (const slot of [...this.slots.values()]) {
      if (this.expired(slot)) {
        this.close(slot);
        reaped += 1;
      }
    }
    return reaped;
  }

  get open(): number {
    return this.slots.size;
  }

  private expired(slot: Slot): boolean {
    const now = this.clock();
    if (slot.request === undefined) return now - slot.lastActive >= this.opts.idleMs;
    if (slot.request === 'other' && now - slot.requestStarted >= this.opts.responseTimeoutMs) return true;
    if (slot.socket.writableLength === 0 || slot.socket.bytesWritten !== slot.written) {
      slot.written = slot.socket.bytesWritten;
      slot.stalledSince = now;
      return false;
    }
    return now - slot.stalledSince >= this.opts.stallMs;
  }

  private admit(socket: Socket): void {
    if (this.slots.size >= this.opts.max) this.reap();
    if (this.slots.size >= this.opts.max && !this.evict()) {
      socket.destroy();
      return;
    }
    const now = this.clock();
    const slot: Slot = { socket, request: undefined, requestStarted: now, lastActive: now, written: 0, stalledSince: now };
    this.slots.set(socket, slot);
    socket.on('data', () => (slot.lastActive = this.clock()));
    socket.on('close', () => this.slots.delete(socket));
  }

  /** Makes room for a new connection: the longest-idle one goes, or else the one whose responses have been stuck longest. */
  private evict(): boolean {
    let idle: Slot | undefined;
    let stuck: Slot | undefined;
    for (const slot of this.slots.values()) {
      if (slot.request === undefined) {
        if (!idle || slot.lastActive < idle.lastActive) idle = slot;
      } else if (slot.socket.writableLength > 0 && (!stuck || slot.stalledSince < stuck.stalledSince)) {
        stuck = slot;
      }
    }
    const victim = idle ?? stuck;
    if (!victim) return false;
    this.close(victim);
    return true;
  }

  private close(slot: Slot): void {
    slot.socket.destroy();
    this.slots.delete(slot.socket);
  }

  private requestsOtherThanPoll(): number {
    let busy = 0;
    for (const slot of this.slots.values()) if (slot.request === 'other') busy += 1;
    return busy;
  }
}
