import { OPERATOR, describeActor, mayActFor, nodeActor } from './actor';

describe(mayActFor.name, () => {
  it('lets a node act for itself only, and the operator for any node', () => {
    expect(mayActFor(nodeActor('a'), 'a')).toBe(true);
    expect(mayActFor(nodeActor('a'), 'b')).toBe(false);
    expect(mayActFor(OPERATOR, 'b')).toBe(true);
  });

  it('names the actor for log lines', () => {
    expect(describeActor(OPERATOR)).toBe('the operator');
    expect(describeActor(nodeActor('a'))).toBe('node a');
  });
});
