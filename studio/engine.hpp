// The studio's engine: the Api (studio/api.hpp) behind `dagrad studio`'s
// JSON endpoints. For the server, this is all there is to know:
//
//   studio::EngineOptions o;            // from the command line
//   o.data_path = "d.csv";              // --data FILE (loaded as `dagrad train --data` loads it)
//   o.generate = "planar";              // or --generate planar|circles|moons (the default: planar)
//   o.model_path = "f.dagrad";          // --model F.dagrad (optional)
//   std::unique_ptr<studio::Api> api = studio::make_engine(o);  // InputError: print, exit 2
//   api->handle(request);               // any thread, any number at once
//   api->next_event(after, wait, data); // the SSE stream: state, at most ~30 a second
//   api->shutdown();                    // stops the training thread (also on destruction)
//
// What it serves (docs/studio.md "JSON API" is the contract): config (GET,
// POST), data (POST a CSV), control (play, pause, step, epoch, reset,
// speed), state, boundary, graph (SVG), nodes, node, step, gradcheck,
// download (model, onnx, costs, latex, svg). Errors are answers: 400 with
// {"error": "<one line>"}, 404 for an unknown path, 405 for a wrong method.
//
// Inside: studio/config.* (the settings and their limits), studio/trainer.*
// (the training run, stepped), studio/inspect.* (graph, equations, node
// values, step-through), and engine.cpp (locking, the training thread,
// events, the endpoints). Training runs on one background thread that
// holds the engine's lock for a few milliseconds at a time and lets any
// waiting request in between; it publishes the state as an event at most
// every 33 ms, never per iteration.
#pragma once

#include <memory>
#include <string>

#include "dagrad/studio/api.hpp"

namespace dagrad::studio {

struct EngineOptions {
  std::string data_path;   // --data FILE: a CSV (label last), .h5 or .npz
  std::string generate;    // --generate NAME (planar when neither is given)
  std::string model_path;  // --model F.dagrad: opened in the same views; training resumes it
  std::string config;      // a configuration as JSON (docs/studio.md), applied at start
};

// InputError naming the flag for a file that does not load, a model and
// data that do not fit, or a bad configuration.
std::unique_ptr<Api> make_engine(const EngineOptions& options);

}  // namespace dagrad::studio
