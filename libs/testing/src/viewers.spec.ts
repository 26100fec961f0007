import { deliveryRatios } from './viewers';

describe(deliveryRatios.name, () => {
  it('gives each node the share of the sent timestamps it received, numbered from 1', () => {
    const sut = deliveryRatios(
      [0, 40, 80, 120],
      new Map([
        [1, { videoTimestamps: [0, 40, 80, 120, 160] }],
        [3, { videoTimestamps: [40, 120, 200] }],
      ]),
    );
    expect(sut).toEqual([
      { node: 2, ratio: 1 },
      { node: 4, ratio: 0.5 },
    ]);
  });

  it('counts a timestamp received twice once', () => {
    expect(deliveryRatios([0, 40], new Map([[1, { videoTimestamps: [0, 0] }]]))).toEqual([
      { node: 2, ratio: 0.5 },
    ]);
  });
});
