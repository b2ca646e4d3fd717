// Objects keyed by node ids, input names or other names a client chooses, which may be any string: '__proto__'
// assigned plainly (`obj[id] = v`) sets the object's prototype instead of a key (the entry is lost), and reads of
// 'constructor', 'toString', ... find Object.prototype's members. Build such objects with these (or from a Map with
// Object.fromEntries, which defines own properties), and read them with getOwn.

/** `obj[key] = value` as an own, enumerable data property, whatever the key ('__proto__' included). */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

/** `obj[key]` when it is `obj`'s own property, else undefined (never an inherited member). */
export function getOwn<T>(obj: Readonly<Record<string, T>> | undefined | null, key: string): T | undefined {
  return obj != null && Object.hasOwn(obj, key) ? obj[key] : undefined;
}
