// ONNX Runtime's side of bench/serve.py: times InferenceSession.run on an
// exported model through npm's onnxruntime-node, samples as rows.
//   node bench/serve_ort.js MODEL.onnx --batch 1,64,4096 --threads 1 --seconds 1
// Prints one line per batch, as bench/serve_bench.cpp does:
// "batch B median_us U min_us V calls N". Exit 3 when onnxruntime-node
// cannot be loaded (the driver then skips ORT). ORT_NODE_MODULES names the
// node_modules folder it was installed in (bench/ort/node_modules by default).
'use strict';
const path = require('path');

let ort;
try {
  const where = process.env.ORT_NODE_MODULES || path.join(__dirname, 'ort', 'node_modules');
  ort = require(path.join(where, 'onnxruntime-node'));
} catch (e) {
  console.error(`serve_ort: onnxruntime-node is not installed (${e.message.split('\n')[0]})`);
  process.exit(3);
}

function args() {
  const a = { model: process.argv[2], batches: [1, 64, 4096], threads: 1, seconds: 1, reps: 2000 };
  for (let i = 3; i + 1 < process.argv.length; i += 2) {
    const v = process.argv[i + 1];
    if (process.argv[i] === '--batch') a.batches = v.split(',').map(Number);
    else if (process.argv[i] === '--threads') a.threads = Number(v);
    else if (process.argv[i] === '--seconds') a.seconds = Number(v);
    else if (process.argv[i] === '--reps') a.reps = Number(v);
    else throw new Error(`unknown flag ${process.argv[i]}`);
  }
  return a;
}

async function main() {
  const a = args();
  const session = await ort.InferenceSession.create(a.model, {
    intraOpNumThreads: a.threads, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const input = session.inputNames[0];
  const meta = session.inputMetadata ? session.inputMetadata : null;
  let nx = 0;
  if (meta && meta[0] && meta[0].shape) nx = Number(meta[0].shape[1]);
  if (!nx) nx = Number(process.env.SERVE_NX);
  console.log(`plan onnxruntime-node ${ort.env.versions ? ort.env.versions.common : ''} input ${input} n_x ${nx}`);
  for (const b of a.batches) {
    const x = new Float32Array(b * nx);
    for (let i = 0; i < x.length; ++i) x[i] = Math.sin(0.61 * i);
    const feeds = {};
    const call = async () => {
      feeds[input] = new ort.Tensor('float32', x, [b, nx]);
      return session.run(feeds);
    };
    const warmEnd = performance.now() + Math.min(200, a.seconds * 200);
    for (let i = 0; i < 3 || performance.now() < warmEnd; ++i) await call();
    const us = [];
    const end = performance.now() + a.seconds * 1000;
    for (let i = 0; i < a.reps && (i < 5 || performance.now() < end); ++i) {
      const t0 = process.hrtime.bigint();
      await call();
      us.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
    us.sort((p, q) => p - q);
    console.log(`batch ${b} median_us ${us[us.length >> 1].toFixed(3)} min_us ${us[0].toFixed(3)} calls ${us.length}`);
  }
}

main().catch((e) => {
  console.error(`serve_ort: error: ${e.message}`);
  process.exit(2);
});
