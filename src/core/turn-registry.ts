/** Running turns by turn id, each belonging to one group: a caller names a turn, the socket names the group. */
export class TurnRegistry<T extends { group: string }> {
  protected readonly turns = new Map<string, T>();

  begin(turnId: string, turn: T): void {
    this.turns.set(turnId, turn);
  }

  end(turnId: string): void {
    this.turns.delete(turnId);
  }

  /** The group's running turn; undefined when the id is not this group's (the agent's word is never trusted). */
  get(group: string, turnId: string): T | undefined {
    const turn = this.turns.get(turnId);
    return turn && turn.group === group ? turn : undefined;
  }
}
