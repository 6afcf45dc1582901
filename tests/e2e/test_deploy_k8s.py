"""The Kubernetes kit: every overlay renders with kustomize, core kinds validate against the
Kubernetes 1.37 schemas, the ScaledObject and ServiceMonitor against their CRDs (copied into
Tests/Fixtures/k8s-schemas), the scalers carry the keys KEDA needs, the probes ask routes the real
server answers, and the termination arithmetic lets a draining replica finish its streams."""
import os
import subprocess

import jsonschema
import pytest
import requests
import yaml

from conftest import ROOT, Server

K8S = os.path.join(ROOT, "deploy", "k8s")
OVERLAYS = sorted(os.listdir(os.path.join(K8S, "overlays")))
SCHEMAS = os.path.join(ROOT, "Tests", "Fixtures", "k8s-schemas")
CRDS = {"ScaledObject": "keda.sh_scaledobjects.yaml", "ServiceMonitor": "monitoring.coreos.com_servicemonitors.yaml"}


def render(overlay):
    out = subprocess.run(["kubectl", "kustomize", os.path.join(K8S, "overlays", overlay)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout, [d for d in yaml.safe_load_all(out.stdout) if d]


def of_kind(documents, kind):
    return [d for d in documents if d["kind"] == kind]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_core_kinds_validate_strictly(overlay, tmp_path):
    text, documents = render(overlay)
    core = [d for d in documents if d["kind"] not in CRDS]
    assert {d["kind"] for d in core} == {"Deployment", "Service", "PersistentVolumeClaim", "PodDisruptionBudget", "NetworkPolicy"}
    path = tmp_path / "core.yaml"
    path.write_text(yaml.safe_dump_all(core))
    result = subprocess.run(["kubernetes-validate", "--strict", "-k", "1.37.0", str(path)], capture_output=True, text=True)
    assert result.returncode == 0 and "passed" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_custom_resources_validate_against_their_crds(overlay):
    _, documents = render(overlay)
    for kind, file in CRDS.items():
        with open(os.path.join(SCHEMAS, file)) as f:
            schema = yaml.safe_load(f)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        (resource,) = of_kind(documents, kind)
        errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(resource)]
        assert not errors, (kind, errors)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_scalers_have_the_keys_keda_reads(overlay):
    _, documents = render(overlay)
    (scaled,) = of_kind(documents, "ScaledObject")
    (trigger,) = scaled["spec"]["triggers"]
    assert scaled["spec"]["scaleTargetRef"]["name"] == of_kind(documents, "Deployment")[0]["metadata"]["name"]
    metadata = trigger["metadata"]
    if trigger["type"] == "prometheus":
        assert {"serverAddress", "query", "threshold"} <= set(metadata)
        assert "sum(vllm:num_requests_waiting" in metadata["query"]
        float(metadata["threshold"])
    else:
        assert trigger["type"] == "metrics-api"
        assert {"url", "valueLocation", "targetValue"} <= set(metadata)
        assert metadata["format"] == "prometheus" and metadata["valueLocation"] == "vllm:num_requests_waiting"
        assert metadata["url"].endswith("/metrics")
        # Every replica's queue, summed (a Service URL alone reads one replica per poll).
        assert metadata["aggregateFromKubeServiceEndpoints"] == "true" and metadata["aggregationType"] == "sum"
        float(metadata["targetValue"])


def test_probes_ask_routes_the_server_answers():
    _, documents = render("cpu")
    (deployment,) = of_kind(documents, "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": 8000}
    (service,) = of_kind(documents, "Service")
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    server = Server(model=None)
    try:
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            get = container[probe]["httpGet"]
            assert ports[get["port"]] == 8000
            assert requests.get(server.url + get["path"], timeout=5).status_code == 200, get
        # Readiness must be /health: it turns 503 while the model loads and while draining.
        assert container["readinessProbe"]["httpGet"]["path"] == "/health"
        assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
        (monitor,) = of_kind(documents, "ServiceMonitor")
        endpoint = monitor["spec"]["endpoints"][0]
        assert endpoint["port"] == "http" and "vllm:num_requests_waiting" in requests.get(server.url + endpoint["path"], timeout=5).text
    finally:
        server.stop()


def test_termination_lets_running_streams_finish():
    _, documents = render("cpu")
    (deployment,) = of_kind(documents, "Deployment")
    spec = deployment["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    drain = int(env["SHUTDOWN_GRACE_SECONDS"])
    # Kubernetes counts the preStop hook inside the grace period; Tern needs its drain after it.
    assert spec["terminationGracePeriodSeconds"] >= pre_stop + drain + 5
    # Rollouts never take a serving replica away before its replacement is ready.
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    # The startup probe allows a slow model load (30 minutes) before liveness takes over.
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 1800


def test_pods_run_restricted():
    _, documents = render("model-download")
    (deployment,) = of_kind(documents, "Deployment")
    spec = deployment["spec"]["template"]["spec"]
    assert spec["securityContext"]["runAsNonRoot"] and spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    for container in spec["containers"] + spec.get("initContainers", []):
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False and context["readOnlyRootFilesystem"] is True
        assert context["capabilities"]["drop"] == ["ALL"]


def test_model_download_pulls_into_the_cache_tern_serves_from():
    _, documents = render("model-download")
    (deployment,) = of_kind(documents, "Deployment")
    spec = deployment["spec"]["template"]["spec"]
    (init,) = spec["initContainers"]
    (container,) = spec["containers"]
    init_env = {e["name"]: e.get("value") for e in init["env"]}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert init["command"] == ["tern", "pull"] and init["args"] == ["$(MODEL_REPO)"]
    # The server serves the same repository from the same cache, downloads off.
    assert env["MODEL_PATH"] == init_env["MODEL_REPO"] and env["HF_HUB_CACHE"] == init_env["HF_HUB_CACHE"]
    assert env["NO_DOWNLOAD"] == "true"
    assert init_env["HF_HUB_CACHE"].startswith(next(m["mountPath"] for m in init["volumeMounts"] if m["name"] == "models"))
