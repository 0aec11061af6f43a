import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { systemClock, type Clock } from '../clock.js';

export interface ConnectionSlotsOptions {
  /** Connections open at once; the runner's long-poll always gets one of them. */
  max: number;
  /** A connection with no request in flight for this long is closed. */
  idleMs: number;
  clock?: Clock;
}

interface Slot {
  socket: Socket;
  inFlight: number;
  /** The request in flight is the runner's long-poll for its next turn. */
  polling: boolean;
  lastActive: number;
}

/**
 * Holds a group socket's connections within a small number without letting idle ones lock the
 * runner out: a connection idle past idleMs is reaped, a new connection at the limit replaces the
 * longest-idle one, and requests other than the runner's long-poll may busy all slots but one.
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

  /** Marks a request in flight on its connection until its response is done. False: no slot left for it. */
  startRequest(socket: Socket, isPoll: boolean, onDone: (cb: () => void) => void): boolean {
    const slot = this.slots.get(socket);
    if (!slot) return true;
    if (!isPoll && this.busyOtherThanPoll() >= this.opts.max - 1) return false;
    slot.inFlight += 1;
    slot.polling = isPoll;
    onDone(() => {
      slot.inFlight = Math.max(0, slot.inFlight - 1);
      slot.polling = false;
      slot.lastActive = this.clock();
    });
    return true;
  }

  /** Closes every connection idle longer than idleMs; returns how many. */
  reapIdle(): number {
    const now = this.clock();
    let reaped = 0;
    for (const slot of [...this.slots.values()]) {
      if (slot.inFlight === 0 && now - slot.lastActive >= this.opts.idleMs) {
        slot.socket.destroy();
        this.slots.delete(slot.socket);
        reaped += 1;
      }
    }
    return reaped;
  }

  get open(): number {
    return this.slots.size;
  }

  private admit(socket: Socket): void {
    if (this.slots.size >= this.opts.max) this.reapIdle();
    if (this.slots.size >= this.opts.max && !this.evictLongestIdle()) {
      socket.destroy();
      return;
    }
    const slot: Slot = { socket, inFlight: 0, polling: false, lastActive: this.clock() };
    this.slots.set(socket, slot);
    socket.on('data', () => (slot.lastActive = this.clock()));
    socket.on('close', () => this.slots.delete(socket));
  }

  private evictLongestIdle(): boolean {
    let oldest: Slot | undefined;
    for (const slot of this.slots.values()) {
      if (slot.inFlight === 0 && (!oldest || slot.lastActive < oldest.lastActive)) oldest = slot;
    }
    if (!oldest) return false;
    oldest.socket.destroy();
    this.slots.delete(oldest.socket);
    return true;
  }

  private busyOtherThanPoll(): number {
    let busy = 0;
    for (const slot of this.slots.values()) if (slot.inFlight > 0 && !slot.polling) busy += 1;
    return busy;
  }
}
