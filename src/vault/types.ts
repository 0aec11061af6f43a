export interface SecretInfo {
  name: string;
  createdAt: number;
  updatedAt: number;
}

/** Secrets encrypted at rest; values leave only through get(), to host code that needs them. */
export interface SecretStore {
  get(name: string): string | undefined;
  set(name: string, value: string): void;
  remove(name: string): boolean;
  list(): SecretInfo[];
}
