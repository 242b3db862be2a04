// AMF0, the value encoding of RTMP commands and of FLV's onMetaData: the subset a publisher sends
// (numbers, booleans, strings, null, objects) and everything a server answers with. Pure.

export type Amf0Value = number | boolean | string | null | undefined | Amf0Object | Amf0Value[];
export interface Amf0Object {
  [key: string]: Amf0Value;
}

const NUMBER = 0x00;
const BOOLEAN = 0x01;
const STRING = 0x02;
const OBJECT = 0x03;
const NULL = 0x05;
const UNDEFINED = 0x06;
const REFERENCE = 0x07;
const ECMA_ARRAY = 0x08;
const OBJECT_END = 0x09;
const STRICT_ARRAY = 0x0a;
const DATE = 0x0b;
const LONG_STRING = 0x0c;

export class Amf0Error extends Error {}

function utf8(s: string, long = false): Buffer {
  const body = Buffer.from(s, 'utf8');
  const head = Buffer.alloc(long ? 4 : 2);
  if (long) head.writeUInt32BE(body.length);
  else head.writeUInt16BE(body.length);
  return Buffer.concat([head, body]);
}

function encodeValue(v: Amf0Value, out: Buffer[]): void {
  if (v === null) out.push(Buffer.from([NULL]));
  else if (v === undefined) out.push(Buffer.from([UNDEFINED]));
  else if (typeof v === 'number') {
    const b = Buffer.alloc(9);
    b[0] = NUMBER;
    b.writeDoubleBE(v, 1);
    out.push(b);
  } else if (typeof v === 'boolean') out.push(Buffer.from([BOOLEAN, v ? 1 : 0]));
  else if (typeof v === 'string') {
    const long = Buffer.byteLength(v) > 0xffff;
    out.push(Buffer.from([long ? LONG_STRING : STRING]), utf8(v, long));
  } else if (Array.isArray(v)) {
    const head = Buffer.alloc(5);
    head[0] = STRICT_ARRAY;
    head.writeUInt32BE(v.length, 1);
    out.push(head);
    for (const item of v) encodeValue(item, out);
  } else {
    out.push(Buffer.from([OBJECT]));
    for (const [k, item] of Object.entries(v)) {
      out.push(utf8(k));
      encodeValue(item, out);
    }
    out.push(Buffer.from([0, 0, OBJECT_END]));
  }
}

/** The values one after another, as a command message's body carries them. */
export function encodeAmf0(...values: Amf0Value[]): Buffer {
  const out: Buffer[] = [];
  for (const v of values) encodeValue(v, out);
  return Buffer.concat(out);
}

class Reader {
  pos = 0;
  constructor(private readonly b: Buffer) {}

  need(n: number): void {
    if (this.pos + n > this.b.length) throw new Amf0Error(`AMF0 value runs past the end (${this.pos + n} > ${this.b.length})`);
  }

  u8(): number {
    this.need(1);
    return this.b[this.pos++]!;
  }

  str(long = false): string {
    const n = long ? this.u32() : this.u16();
    this.need(n);
    const s = this.b.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  u16(): number {
    this.need(2);
    const v = this.b.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.b.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  properties(): Amf0Object {
    const o: Amf0Object = {};
    for (;;) {
      const key = this.str();
      if (key === '' && this.b[this.pos] === OBJECT_END) {
        this.pos++;
        return o;
      }
      o[key] = this.value();
    }
  }

  value(): Amf0Value {
    const marker = this.u8();
    switch (marker) {
      case NUMBER: {
        this.need(8);
        const v = this.b.readDoubleBE(this.pos);
        this.pos += 8;
        return v;
      }
      case BOOLEAN:
        return this.u8() !== 0;
      case STRING:
        return this.str();
      case LONG_STRING:
        return this.str(true);
      case OBJECT:
        return this.properties();
      case ECMA_ARRAY:
        this.u32();
        return this.properties();
      case STRICT_ARRAY: {
        const n = this.u32();
        const items: Amf0Value[] = [];
        for (let i = 0; i < n; i++) items.push(this.value());
        return items;
      }
      case NULL:
        return null;
      case UNDEFINED:
        return undefined;
      case REFERENCE:
        this.u16();
        return null;
      case DATE: {
        this.need(10);
        const ms = this.b.readDoubleBE(this.pos);
        this.pos += 10;
        return ms;
      }
      default:
        throw new Amf0Error(`unknown AMF0 marker 0x${marker.toString(16)} at ${this.pos - 1}`);
    }
  }
}

/** Every value in the buffer, in order (a command: name, transaction id, command object, arguments). */
export function decodeAmf0(b: Buffer): Amf0Value[] {
  const r = new Reader(b);
  const values: Amf0Value[] = [];
  while (r.pos < b.length) values.push(r.value());
  return values;
}
