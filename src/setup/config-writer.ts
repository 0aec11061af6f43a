import { existsSync, readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, parseDocument, YAMLMap, YAMLSeq, type Document } from 'yaml';
import type { ModelPriceConfig } from '../config/schema.js';
import { writeFileAtomic } from '../config/atomic-file.js';

type Path = readonly (string | number)[];

/**
 * enclave.yaml as a YAML document: setup changes the keys it asks about and nothing else, so the
 * user's own keys, order and comments survive a re-run. New keys get a comment saying what they are.
 */
export class ConfigFile {
  private constructor(
    private readonly file: string,
    readonly doc: Document,
  ) {}

  static open(file: string, template: string): ConfigFile {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : template;
    const doc = parseDocument(text);
    if (doc.errors.length > 0) throw new Error(`${file} is not valid YAML (${doc.errors[0]!.message.split('\n')[0]}); fix it or move it away, then run \`enclave setup\` again`);
    if (!isMap(doc.contents)) doc.contents = doc.createNode({}) as unknown as typeof doc.contents;
    return new ConfigFile(file, doc);
  }

  /** Sets a value; a key that did not exist yet gets `comment` above it. */
  set(path: Path, value: unknown, comment?: string): void {
    const existed = this.doc.hasIn(path);
    this.doc.setIn(path, this.doc.createNode(value, { flow: isFlowValue(value) }));
    if (!existed && comment) this.commentKey(path, comment);
  }

  get(path: Path): unknown {
    return this.doc.getIn(path);
  }

  /** Adds or updates the provider of that name: its URL, key name, the model and the model's price. */
  upsertProvider(p: { name: string; baseUrl: string; secret?: string; model: string; price: ModelPriceConfig; comment: string }): void {
    const providers = this.seq(['providers'], 'Model providers: OpenAI-compatible endpoints (README "Providers").');
    let index = providers.items.findIndex((item) => isMap(item) && item.get('name') === p.name);
    if (index < 0) {
      providers.add(this.doc.createNode({ name: p.name, baseUrl: p.baseUrl }));
      index = providers.items.length - 1;
      (providers.items[index] as YAMLMap).commentBefore = ` ${p.comment}`;
    }
    const at = ['providers', index];
    this.set([...at, 'baseUrl'], p.baseUrl);
    if (p.secret) this.set([...at, 'secret'], p.secret, ' vault name of the key: enclave secrets set ' + p.secret);
    else this.doc.deleteIn([...at, 'secret']);
    const models = this.doc.getIn([...at, 'models']);
    if (isSeq(models)) {
      if (!models.items.some((m) => isScalar(m) && m.value === p.model)) models.add(p.model);
    } else {
      this.set([...at, 'models'], [p.model], ' models this provider serves');
    }
    this.set([...at, 'prices', p.model], p.price, ' USD per 1M tokens (input / cached input / output)');
  }

  /** Adds a person to `owners` unless listed already. */
  addOwner(identity: string): void {
    const owners = this.seq(['owners'], 'People who may use admin commands in chats (besides the local chat).');
    if (!owners.items.some((o) => isScalar(o) && o.value === identity)) owners.add(identity);
  }

  toString(): string {
    return this.doc.toString({ lineWidth: 0 });
  }

  /** Writes the whole file at once (a crash never leaves half a file). */
  save(): void {
    writeFileAtomic(this.file, this.toString());
  }

  private seq(path: Path, comment: string): YAMLSeq {
    const node = this.doc.getIn(path, true);
    if (isSeq(node)) {
      node.flow = false;
      return node;
    }
    this.set(path, [], ` ${comment}`);
    const created = this.doc.getIn(path, true) as YAMLSeq;
    created.flow = false;
    return created;
  }

  private commentKey(path: Path, comment: string): void {
    const parent = path.length === 1 ? this.doc.contents : this.doc.getIn(path.slice(0, -1), true);
    if (!isMap(parent)) return;
    const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === path[path.length - 1]);
    if (pair && isScalar(pair.key)) pair.key.commentBefore = comment.startsWith(' ') ? comment : ` ${comment}`;
  }
}

/** Small maps (a price, a budget) read best on one line. */
function isFlowValue(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v !== 'object');
}
