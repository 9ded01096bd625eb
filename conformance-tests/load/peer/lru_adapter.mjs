// An in-memory adapter for oidc-provider with room for a million entries (least recently
// used first out). The provider's own MemoryAdapter keeps 1,000, which a load test of 32
// users fills within a second; its authors recommend a real adapter for any serious use, and
// this is the smallest one that does not drop live sessions and grants under load.

const MAX_ENTRIES = Number.parseInt(process.env.PEER_ADAPTER_MAX ?? '1000000', 10);

// One map for every model: insertion order is recency order (an entry is moved to the end
// when read), so the first key is always the least recently used.
const store = new Map();

function get(key) {
  const entry = store.get(key);
  if (!entry) return undefined;
  if (entry.expiresAt && entry.expiresAt <= Date.now()) {
    store.delete(key);
    return undefined;
  }
  store.delete(key);
  store.set(key, entry);
  return entry.value;
}

function set(key, value, expiresIn) {
  store.delete(key);
  store.set(key, { value, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : 0 });
  while (store.size > MAX_ENTRIES) {
    store.delete(store.keys().next().value);
  }
}

export default class LruAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    set(this.key(id), payload, expiresIn);
    if (payload.grantId) {
      const grantKey = `grant:${payload.grantId}`;
      const ids = get(grantKey) ?? [];
      ids.push(this.key(id));
      set(grantKey, ids, expiresIn);
    }
    if (payload.userCode) set(`userCode:${payload.userCode}`, id, expiresIn);
    if (payload.uid) set(`uid:${payload.uid}`, id, expiresIn);
  }

  async find(id) {
    return get(this.key(id));
  }

  async findByUserCode(userCode) {
    const id = get(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUid(uid) {
    const id = get(`uid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = get(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    const grantKey = `grant:${grantId}`;
    for (const key of get(grantKey) ?? []) store.delete(key);
    store.delete(grantKey);
  }
}
