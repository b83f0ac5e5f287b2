// Node paths Sedna fixes (/var/lib/sedna/…) kept in the node's data dir when the LC embeds the
// kubelet: the LC and the kubelet's hostPath volumes map them alike, prefix by whole path segment.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { embeddedHostPaths, mapHostPath } from '../../src/lc/node-paths.ts';

describe('node paths', () => {
  const map = embeddedHostPaths('/data/nodes/edge-1');
  it('maps /var/lib/sedna and what is under it into the data dir', () => {
    assert.equal(mapHostPath('/var/lib/sedna/model-hot-update/default/incrementallearningjob/a/model_config.json', map), '/data/nodes/edge-1/var/lib/sedna/model-hot-update/default/incrementallearningjob/a/model_config.json');
    assert.equal(mapHostPath('/var/lib/sedna', map), '/data/nodes/edge-1/var/lib/sedna');
  });
  it('leaves other paths, and a longer name sharing the prefix, unchanged', () => {
    assert.equal(mapHostPath('/var/lib/sedna-other/x', map), '/var/lib/sedna-other/x');
    assert.equal(mapHostPath('/incremental_learning/he', map), '/incremental_learning/he');
    assert.equal(mapHostPath('/var/lib/sedna/x', undefined), '/var/lib/sedna/x');
  });
  it('the longest prefix wins', () => {
    assert.equal(mapHostPath('/a/b/c', { '/a': '/x', '/a/b': '/y' }), '/y/c');
  });
});
