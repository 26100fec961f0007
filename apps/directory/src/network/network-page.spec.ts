import { NETWORK_SOCKET_PATH } from '@astral/contracts';
import { networkAsset, renderNetworkPage } from './network-page';

describe(renderNetworkPage.name, () => {
  it('renders the shell: socket path for the script, text counts, legend, both scripts', () => {
    const sut = renderNetworkPage();
    expect(sut).toContain(`{"socketPath":"${NETWORK_SOCKET_PATH}"}`);
    for (const k of ['nodes', 'supernodes', 'streams', 'forwards', 'memberships']) {
      expect(sut).toContain(`data-count="${k}"`);
    }
    expect(sut).toContain('id="network-legend"');
    expect(sut).toContain('<script src="/assets/cytoscape.min.js"></script>');
    expect(sut).toContain('<script src="/assets/network-view.js"></script>');
    expect(sut).toContain('<a href="/network">Network</a>');
  });
});

describe(networkAsset.name, () => {
  it('reads cytoscape from node_modules and the page script beside the other page assets', () => {
    expect(networkAsset('cytoscape.min.js')).toContain('cytoscape');
    expect(networkAsset('network-view.js')).toContain("document.getElementById('astral-network')");
  });
});
