import { BodyRefusal, hasBody, jsonBodyOptions, nonJsonBodyReason } from './json-body';

describe('JSON bodies', () => {
  it('lets JSON through and refuses any other declared or undeclared body', () => {
    expect(
      nonJsonBodyReason({ 'content-type': 'application/json; charset=utf-8', 'content-length': '2' }),
    ).toBeNull();
    expect(
      nonJsonBodyReason({ 'content-type': 'Application/JSON', 'transfer-encoding': 'chunked' }),
    ).toBeNull();
    expect(nonJsonBodyReason({})).toBeNull();
    expect(nonJsonBodyReason({ 'content-length': '0', 'content-type': 'text/plain' })).toBeNull();
    expect(nonJsonBodyReason({ 'content-type': 'text/plain', 'content-length': '5' })).toMatch(
      /must be JSON.*text\/plain/,
    );
    expect(nonJsonBodyReason({ 'content-length': '5' })).toMatch(/no Content-Type/);
    expect(nonJsonBodyReason({ 'content-type': 'application/jsonx', 'content-length': '5' })).not.toBeNull();
    expect(hasBody({ 'transfer-encoding': 'chunked' })).toBe(true);
  });

  it('verify refuses a deep body with a 400 before parsing, and passes a normal one', () => {
    const { verify } = jsonBodyOptions();
    const call = (body: string) => () => verify(undefined as never, undefined as never, Buffer.from(body));
    expect(call('['.repeat(3000) + ']'.repeat(3000))).toThrow(BodyRefusal);
    let caught: unknown;
    try {
      call('{"a":'.repeat(100) + '1' + '}'.repeat(100))();
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({
      status: 400,
      expose: true,
      message: 'JSON body nested deeper than 32 levels',
    });
    expect(call('{"maxChildren":100,"x":[[1]]}')).not.toThrow();
  });
});
