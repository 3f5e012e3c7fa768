/**
 * A restricted unpickler for `torch.save` state dicts. It interprets only the
 * opcodes a state dict needs and resolves only the globals that rebuild
 * tensors (`torch._utils._rebuild_tensor_v2`, `_rebuild_parameter`, the
 * `torch.*Storage` type tags, `collections.OrderedDict`); it never calls
 * anything else. Any other global (`os.system`, `builtins.eval`, ...) or
 * opcode is refused with `UnsafePickleError` before it could take effect.
 *
 * @example
 * ```ts
 * import { unpickleStateDict } from "@refine-af/models"
 * // const records = unpickleStateDict(bytes, "pytorch_model.bin") // Map name → TensorRecord
 * ```
 */
import { UnsafePickleError } from "./errors.ts"

/** The storage a tensor views: dtype tag (e.g. `FloatStorage`), key of `data/<key>`, element count. */
export interface StorageRef {
  readonly _tag: "Storage"
  readonly storageType: string
  readonly key: string
  readonly numel: number
}

/** One tensor of the state dict as the pickle describes it (nothing read yet). */
export interface TensorRecord {
  readonly _tag: "Tensor"
  readonly storage: StorageRef
  readonly offset: number
  readonly shape: ReadonlyArray<number>
  readonly stride: ReadonlyArray<number>
}

interface GlobalRef {
  readonly _tag: "Global"
  readonly name: string
}

type Value = null | boolean | number | string | GlobalRef | StorageRef | TensorRecord | Array<Value> | Map<Value, Value> | typeof MARK
const MARK = Symbol("mark")

/** Storage type tags and their element types. */
export const storageDtypes: Readonly<Record<string, "F32" | "F16" | "BF16" | "F64" | "I64" | "I32" | "I16" | "I8" | "U8" | "BOOL">> = {
  FloatStorage: "F32",
  HalfStorage: "F16",
  BFloat16Storage: "BF16",
  DoubleStorage: "F64",
  LongStorage: "I64",
  IntStorage: "I32",
  ShortStorage: "I16",
  CharStorage: "I8",
  ByteStorage: "U8",
  BoolStorage: "BOOL"
}

const allowedGlobals = new Set([
  "collections.OrderedDict",
  "torch._utils._rebuild_tensor_v2",
  "torch._utils._rebuild_parameter",
  ...Object.keys(storageDtypes).map((s) => `torch.${s}`)
])

const opNames: Readonly<Record<number, string>> = {
  0x52: "REDUCE", 0x62: "BUILD", 0x69: "INST", 0x6f: "OBJ", 0x81: "NEWOBJ", 0x92: "NEWOBJ_EX", 0x93: "STACK_GLOBAL", 0x63: "GLOBAL",
  0x50: "PERSID", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4", 0x53: "STRING", 0x49: "INT", 0x4c: "LONG", 0x46: "FLOAT"
}

/** Parses the pickle of a state dict into tensor records by name; throws `UnsafePickleError`. */
export const unpickleStateDict = (bytes: Uint8Array, path: string): Map<string, TensorRecord> => {
  const refuse = (message: string): never => {
    throw new UnsafePickleError({ path, message: `${path}: ${message}. Nothing from the file was executed; load only checkpoints you trust, or convert this one to safetensors` })
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let pos = 0
  const need = (n: number) => {
    if (pos + n > bytes.length) refuse(`the pickle ends unexpectedly at byte ${pos}`)
  }
  const u8 = () => (need(1), bytes[pos++]!)
  const u16 = () => (need(2), (pos += 2), view.getUint16(pos - 2, true))
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4, true))
  const text = (n: number) => {
    need(n)
    const s = new TextDecoder().decode(bytes.subarray(pos, pos + n))
    pos += n
    return s
  }
  const line = () => {
    const end = bytes.indexOf(0x0a, pos)
    if (end < 0) refuse("unterminated GLOBAL")
    const s = new TextDecoder().decode(bytes.subarray(pos, end))
    pos = end + 1
    return s
  }
  const stack: Array<Value> = []
  const memo = new Map<number, Value>()
  const pop = (): Value => (stack.length === 0 ? refuse("stack underflow") : stack.pop()!)
  const popMark = (): Array<Value> => {
    const at = stack.lastIndexOf(MARK)
    if (at < 0) refuse("no MARK on the stack")
    return stack.splice(at).slice(1)
  }
  const int = (v: Value, what: string): number => (typeof v === "number" && Number.isSafeInteger(v) ? v : refuse(`${what} is not an integer`))

  const call = (fn: Value, args: Value): Value => {
    if (typeof fn !== "object" || fn === null || (fn as GlobalRef)._tag !== "Global" || !Array.isArray(args)) return refuse("REDUCE on something that is not an allowed global")
    const name = (fn as GlobalRef).name
    switch (name) {
      case "collections.OrderedDict":
        if (args.length !== 0) refuse("OrderedDict called with arguments")
        return new Map()
      case "torch._utils._rebuild_parameter":
        return args[0] ?? null
      case "torch._utils._rebuild_tensor_v2": {
        const [storage, offset, shape, stride] = args
        if (typeof storage !== "object" || storage === null || (storage as StorageRef)._tag !== "Storage") return refuse("_rebuild_tensor_v2 without a storage")
        if (!Array.isArray(shape) || !Array.isArray(stride) || shape.length !== stride.length) return refuse("_rebuild_tensor_v2 with a malformed size/stride")
        return {
          _tag: "Tensor",
          storage: storage as StorageRef,
          offset: int(offset ?? null, "storage offset"),
          shape: shape.map((d) => int(d, "a dimension")),
          stride: stride.map((d) => int(d, "a stride"))
        }
      }
      default:
        return refuse(`calling ${name} is not allowed`)
    }
  }

  for (;;) {
    const op = u8()
    switch (op) {
      case 0x80: u8(); break // PROTO
      case 0x95: need(8); pos += 8; break // FRAME
      case 0x2e: { // STOP
        const top = pop()
        if (!(top instanceof Map)) return refuse("the pickle is not a state dict (a mapping of names to tensors); load the model's state_dict, not a whole object")
        const out = new Map<string, TensorRecord>()
        for (const [k, v] of top) {
          if (typeof k !== "string" || typeof v !== "object" || v === null || (v as TensorRecord)._tag !== "Tensor") {
            return refuse(`entry ${String(k)} of the state dict is not a tensor (nested checkpoints such as {"state_dict": ...} are not supported; save model.state_dict())`)
          }
          out.set(k, v as TensorRecord)
        }
        return out
      }
      case 0x7d: stack.push(new Map()); break // EMPTY_DICT
      case 0x5d: stack.push([]); break // EMPTY_LIST
      case 0x29: stack.push([]); break // EMPTY_TUPLE
      case 0x28: stack.push(MARK); break // MARK
      case 0x71: memo.set(u8(), stack[stack.length - 1]!); break // BINPUT
      case 0x72: memo.set(u32(), stack[stack.length - 1]!); break // LONG_BINPUT
      case 0x94: memo.set(memo.size, stack[stack.length - 1]!); break // MEMOIZE
      case 0x68: case 0x6a: { // BINGET / LONG_BINGET
        const k = op === 0x68 ? u8() : u32()
        if (!memo.has(k)) refuse(`memo ${k} is unset`)
        stack.push(memo.get(k)!)
        break
      }
      case 0x58: stack.push(text(u32())); break // BINUNICODE
      case 0x8c: stack.push(text(u8())); break // SHORT_BINUNICODE
      case 0x4b: stack.push(u8()); break // BININT1
      case 0x4d: stack.push(u16()); break // BININT2
      case 0x4a: need(4); stack.push(view.getInt32(pos, true)); pos += 4; break // BININT
      case 0x8a: { // LONG1
        const n = u8()
        need(n)
        if (n > 6) refuse(`an integer of ${n} bytes is too large`)
        let v = 0
        for (let i = n - 1; i >= 0; i--) v = v * 256 + bytes[pos + i]!
        if (n > 0 && bytes[pos + n - 1]! >= 0x80) v -= 2 ** (8 * n)
        pos += n
        stack.push(v)
        break
      }
      case 0x47: need(8); stack.push(view.getFloat64(pos, false)); pos += 8; break // BINFLOAT
      case 0x88: stack.push(true); break
      case 0x89: stack.push(false); break
      case 0x4e: stack.push(null); break
      case 0x74: stack.push(popMark()); break // TUPLE
      case 0x85: stack.push([pop()]); break
      case 0x86: { const b = pop(); const a = pop(); stack.push([a, b]); break }
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push([a, b, c]); break }
      case 0x61: { const v = pop(); const list = stack[stack.length - 1]; if (!Array.isArray(list)) refuse("APPEND to a non-list"); (list as Array<Value>).push(v); break }
      case 0x65: { const items = popMark(); const list = stack[stack.length - 1]; if (!Array.isArray(list)) refuse("APPENDS to a non-list"); (list as Array<Value>).push(...items); break }
      case 0x73: { const v = pop(); const k = pop(); const d = stack[stack.length - 1]; if (!(d instanceof Map)) refuse("SETITEM on a non-dict"); (d as Map<Value, Value>).set(k, v); break }
      case 0x75: { // SETITEMS
        const items = popMark()
        const d = stack[stack.length - 1]
        if (!(d instanceof Map) || items.length % 2 !== 0) refuse("SETITEMS on a non-dict")
        for (let i = 0; i < items.length; i += 2) (d as Map<Value, Value>).set(items[i]!, items[i + 1]!)
        break
      }
      case 0x63: { // GLOBAL
        const name = `${line()}.${line()}`
        if (!allowedGlobals.has(name)) refuse(`the pickle asks for the global ${name}, which is not a tensor-rebuild function (only ${[...allowedGlobals].slice(0, 3).join(", ")} and torch storage types are allowed)`)
        stack.push({ _tag: "Global", name })
        break
      }
      case 0x51: { // BINPERSID
        const pid = pop()
        if (!Array.isArray(pid) || pid[0] !== "storage" || pid.length < 5) return refuse("a persistent id that is not a torch storage")
        const type = pid[1] as GlobalRef
        const storageType = typeof type === "object" && type !== null && type._tag === "Global" ? type.name.replace(/^torch\./, "") : ""
        if (!(storageType in storageDtypes)) refuse(`unknown storage type ${String(storageType)}`)
        if (typeof pid[2] !== "string") refuse("a storage key that is not a string")
        stack.push({ _tag: "Storage", storageType, key: pid[2] as string, numel: int(pid[4]!, "storage size") })
        break
      }
      case 0x52: { const args = pop(); const fn = pop(); stack.push(call(fn, args)); break } // REDUCE
      case 0x62: { // BUILD: only the attribute state of an OrderedDict (state_dict._metadata), which is dropped
        pop()
        if (!(stack[stack.length - 1] instanceof Map)) refuse("BUILD on something other than a state dict")
        break
      }
      default:
        refuse(`opcode ${opNames[op] ?? `0x${op.toString(16)}`} at byte ${pos - 1} is not allowed in a tensor checkpoint`)
    }
  }
}
