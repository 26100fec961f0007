import { validateSync } from 'class-validator';
import { plainToInstance } from 'class-transformer';
import { RegisterNodeRequest } from '@astral/contracts';
import { registerNodeRequest } from './node-requests';

describe(registerNodeRequest.name, () => {
  it('is a registration the directory accepts, a new node each time', () => {
    const a = registerNodeRequest();
    expect(validateSync(plainToInstance(RegisterNodeRequest, a))).toEqual([]);
    expect(registerNodeRequest().nodeId).not.toBe(a.nodeId);
  });

  it('takes overrides', () => {
    expect(registerNodeRequest({ host: '10.0.0.1', uploadLimitBps: 5 })).toMatchObject({
      host: '10.0.0.1',
      uploadLimitBps: 5,
      rtmpPort: 1935,
    });
  });
});
