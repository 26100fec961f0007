import { parseAgentEvent } from './event-follower';

describe(parseAgentEvent.name, () => {
  it('takes an event with its type and time, also of a type this CLI does not know', () => {
    const at = '2025-01-01T12:00:00.000Z';
    expect(parseAgentEvent(JSON.stringify({ type: 'stream-ended', streamId: 's1', at }))).toEqual({
      type: 'stream-ended',
      streamId: 's1',
      at,
    });
    expect(parseAgentEvent(JSON.stringify({ type: 'something-new', at }))).toEqual({
      type: 'something-new',
      at,
    });
  });

  it('refuses what is not JSON, not an object, or lacks the type or the time', () => {
    for (const text of [
      'not json',
      '42',
      'null',
      '["stream-ended"]',
      '{"type":"stream-ended"}',
      '{"at":"2025-01-01T12:00:00Z"}',
      '{"type":7,"at":"x"}',
    ]) {
      expect(parseAgentEvent(text)).toBeNull();
    }
  });
});
