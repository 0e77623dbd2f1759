#!/usr/bin/env bash
# Installs what dagrad needs to build and test on Debian 12, from Debian's
# archive only. As root it installs directly; otherwise through sudo.
set -euo pipefail
if [[ $(id -u) -ne 0 ]]; then
  exec sudo bash "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
# The studio's HTTP server is Boost.Beast, in the Boost headers that
# libboost-graph-dev brings; its browser tests drive headless chromium
# through chromium-driver and python3-selenium. python3-torch is a peer, never
# a dependency: peers/adamw_torch.py checks AdamW against torch.optim.AdamW.
# The Python module (python/) builds with pybind11-dev and python3-dev; its
# tests run under python3-pytest, and the course notebooks (examples/notebooks/)
# headless through python3-nbclient and python3-ipykernel, reading the
# course's .h5 files with python3-h5py.
apt-get install -y --no-install-recommends \
  build-essential cmake ninja-build pkg-config \
  libfmt-dev libboost-graph-dev catch2 libopenblas-openmp-dev libdnnl-dev libcli11-dev \
  nlohmann-json3-dev libhdf5-dev zlib1g-dev libsleef-dev libexpat1-dev \
  graphviz librsvg2-bin python3-numpy python3-torch \
  libonnx-dev libprotobuf-dev python3-onnx \
  libopenmpi-dev openmpi-bin \
  clang libclang-rt-14-dev \
  chromium chromium-driver python3-selenium \
  pybind11-dev python3-pybind11 python3-dev python3-pytest \
  python3-nbclient python3-nbformat python3-ipykernel python3-h5py
