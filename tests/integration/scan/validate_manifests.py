#!/usr/bin/env python3
"""Validates deploy/k8s/*.yaml against the Kubernetes API schemas (kubernetes-validate,
strict: unknown fields are errors) and lints them with yamllint when it is installed.
Exits 77 (skip) when kubernetes-validate is not installed (pip install kubernetes-validate).

    validate_manifests.py DEPLOY_DIR
"""
import glob
import json
import os
import re
import subprocess
import sys

# Native gRPC probes are GA from 1.27; validate against an old-enough and a current version.
VERSIONS = ["1.29.0", "1.33.0"]
# Not Kubernetes API objects (kustomize's own config).
NOT_API = {"kustomization.yaml"}


def main():
    deploy = sys.argv[1]
    try:
        import kubernetes_validate  # noqa: F401
        import yaml
    except ImportError as e:
        print(f"skipping: {e} (pip install kubernetes-validate)")
        return 77
    files = sorted(glob.glob(os.path.join(deploy, "k8s", "*.yaml")))
    if not files:
        print(f"no manifests under {deploy}/k8s")
        return 1
    failures = 0
    kinds = set()
    for path in files:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        if os.path.basename(path) in NOT_API:
            continue
        for doc in docs:
            kinds.add(doc["kind"])
            for version in VERSIONS:
                try:
                    kubernetes_validate.validate(doc, version, strict=True)
                except kubernetes_validate.ValidationError as e:
                    failures += 1
                    print(f"{path}: {doc['kind']} (k8s {version}): {e.message} at "
                          f"{'/'.join(str(p) for p in e.path)}")
                except kubernetes_validate.SchemaNotFoundError as e:
                    failures += 1
                    print(f"{path}: {e}")
    # The checklist: each of these kinds must be present.
    want = {"Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler", "Job",
            "PersistentVolumeClaim"}
    if not want <= kinds:
        failures += 1
        print(f"missing kinds: {sorted(want - kinds)}")
    # Kustomization lists every manifest that is not applied by hand.
    with open(os.path.join(deploy, "k8s", "kustomization.yaml")) as f:
        kust = yaml.safe_load(f)
    for r in kust["resources"]:
        if not os.path.exists(os.path.join(deploy, "k8s", r)):
            failures += 1
            print(f"kustomization.yaml lists missing {r}")
    try:
        lint = subprocess.run([sys.executable, "-m", "yamllint", "-d",
                               "{extends: default, rules: {line-length: {max: 100}, "
                               "document-start: disable, comments: {min-spaces-from-content: 1}}}",
                               *files], capture_output=True, text=True)
        if lint.returncode != 0 and "No module named yamllint" not in lint.stderr:
            failures += 1
            print(lint.stdout + lint.stderr)
    except OSError:
        pass
    # The Grafana dashboard: valid JSON whose queries use only metrics htsr-server exports
    # (server/metrics.cc, server/htsr_server.cc).
    exported = {"htsr_calls_started_total", "htsr_calls_finished_total", "htsr_errors_total",
                "htsr_received_bytes_total", "htsr_tensors_received_total",
                "htsr_layers_analyzed_total", "htsr_stage_seconds_bucket",
                "htsr_stage_seconds_sum", "htsr_stage_seconds_count", "htsr_call_seconds_bucket",
                "htsr_calls_in_flight", "htsr_queue_bytes_in_use", "htsr_queue_bytes_peak",
                "htsr_queue_bytes_budget", "htsr_queued_layers", "htsr_tenant_queue_bytes_in_use",
                "htsr_tenant_queue_bytes_budget"}
    for path in sorted(glob.glob(os.path.join(deploy, "grafana", "*.json"))):
        with open(path) as f:
            dash = json.load(f)
        for panel in dash["panels"]:
            for target in panel["targets"]:
                for name in re.findall(r"htsr_[a-z_]+", target["expr"]):
                    if name not in exported:
                        failures += 1
                        print(f"{path}: panel '{panel['title']}' uses unknown metric {name}")
    print(f"{len(files)} manifests, kinds {sorted(kinds)}: "
          f"{'ok' if failures == 0 else f'{failures} problems'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
