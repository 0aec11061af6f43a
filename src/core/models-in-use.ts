/** The model that last answered each group (a fallback may have stood in), for /model and /status. */
export class ModelsInUse {
  private readonly byGroup = new Map<string, string>();

  record(group: string, model: string): void {
    this.byGroup.set(group, model);
  }

  last(group: string): string | undefined {
    return this.byGroup.get(group);
  }
}
