import { decodeScriptData, encodeScriptData, scriptDataName } from './amf0';
import { CLOCK_TAG_NAME, clockTag, clockTagTime, isClockTag } from './clock-tag';
import { FlvTagType } from '../flv/flv-tag';

describe('AMF0 script data', () => {
  it('round-trips a name and an ECMA array of numbers, strings and booleans', () => {
    const data = encodeScriptData('onTest', { a: 1.5, b: 'x', c: true });
    expect(scriptDataName(data)).toBe('onTest');
    expect(decodeScriptData(data)).toEqual({ name: 'onTest', fields: { a: 1.5, b: 'x', c: true } });
  });

  it('writes the bytes the AMF0 spec describes', () => {
    const data = encodeScriptData('n', { k: 1 });
    // string marker, length 1, 'n'; ECMA array marker, count 1; key 'k'; number 1.0; object end.
    expect(data.toString('hex')).toBe('0200016e0800000001' + '00016b' + '003ff0000000000000' + '000009');
  });

  it('returns null on truncated or foreign input, never throws', () => {
    const data = encodeScriptData('onTest', { a: 1 });
    for (let n = 0; n < data.length; n++) expect(decodeScriptData(data.subarray(0, n))).toBeNull();
    expect(decodeScriptData(Buffer.from([0x05]))).toBeNull();
    expect(scriptDataName(Buffer.alloc(0))).toBeNull();
  });
});

describe('clock tag', () => {
  it('carries the wall clock in a script tag named onAstralClock', () => {
    const tag = clockTag(1234, 1_700_000_000_123);
    expect(tag.type).toBe(FlvTagType.Script);
    expect(tag.timestamp).toBe(1234);
    expect(isClockTag(tag)).toBe(true);
    expect(clockTagTime(tag)).toBe(1_700_000_000_123);
    expect(decodeScriptData(tag.data)?.name).toBe(CLOCK_TAG_NAME);
  });

  it('is not onMetaData, and onMetaData is not a clock tag', () => {
    const meta = { ...clockTag(0, 1), data: encodeScriptData('onMetaData', { width: 640 }) };
    expect(isClockTag(meta)).toBe(false);
    expect(clockTagTime(meta)).toBeNull();
  });
});
