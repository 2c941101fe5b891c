"""Checks of deploy/k8s beyond the Kubernetes schemas, on the rendered
manifests (stdin, a YAML stream): the Strimzi resources against the fields
and values Strimzi's v1beta2 CRDs allow (their schemas are not available
offline here), the conventions of README "Operations" for every
workload (probes, resources, Prometheus, a PodDisruptionBudget), and the
NetworkPolicies: only ingest open to everyone, watch to the operators'
namespace only. Prints one line per problem; exit 1 if there is one."""
import sys

import yaml

ACL_TYPES = {"topic", "group", "cluster", "transactionalId"}
ACL_OPS = {"Read", "Write", "Create", "Delete", "Alter", "Describe", "ClusterAction",
           "AlterConfigs", "DescribeConfigs", "IdempotentWrite", "All"}
PATTERNS = {"literal", "prefix"}
problems = []


def need(cond, what):
    if not cond:
        problems.append(what)


def kafka_topic(d):
    name = d["metadata"]["name"]
    spec = d.get("spec", {})
    need(set(spec) <= {"topicName", "partitions", "replicas", "config"}, f"KafkaTopic {name}: unknown spec fields {set(spec)}")
    need(isinstance(spec.get("partitions"), int) and spec["partitions"] > 0, f"KafkaTopic {name}: partitions")
    need(isinstance(spec.get("replicas"), int) and 0 < spec["replicas"] <= 32767, f"KafkaTopic {name}: replicas")
    need(d["metadata"].get("labels", {}).get("strimzi.io/cluster"), f"KafkaTopic {name}: no strimzi.io/cluster label")


def kafka_user(d):
    name = d["metadata"]["name"]
    spec = d.get("spec", {})
    need(spec.get("authentication", {}).get("type") == "scram-sha-512", f"KafkaUser {name}: not scram-sha-512")
    authz = spec.get("authorization", {})
    need(authz.get("type") == "simple", f"KafkaUser {name}: authorization not simple")
    for acl in authz.get("acls", []):
        r = acl.get("resource", {})
        need(r.get("type") in ACL_TYPES, f"KafkaUser {name}: resource type {r.get('type')}")
        need(r.get("patternType", "literal") in PATTERNS, f"KafkaUser {name}: patternType {r.get('patternType')}")
        need(set(acl.get("operations", [])) <= ACL_OPS and acl.get("operations"), f"KafkaUser {name}: operations {acl.get('operations')}")


def workload(d):
    name = d["metadata"]["name"]
    pod = d["spec"]["template"]
    ann = pod["metadata"].get("annotations", {})
    need(ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/port"), f"{name}: no Prometheus annotations")
    need(pod["spec"].get("securityContext", {}).get("runAsNonRoot") is True, f"{name}: not runAsNonRoot")
    for c in pod["spec"]["containers"]:
        need(c.get("readinessProbe", {}).get("httpGet", {}).get("path") == "/readyz", f"{name}: readiness probe not /readyz")
        need(c.get("livenessProbe", {}).get("httpGet", {}).get("path") == "/healthz", f"{name}: liveness probe not /healthz")
        need(c.get("resources", {}).get("requests") and c["resources"].get("limits"), f"{name}: no resources")
        need(c.get("securityContext", {}).get("readOnlyRootFilesystem") is True, f"{name}: root filesystem writable")


def open_to_everyone(rule):
    """No `from`, or a peer selecting every namespace or every address."""
    if "from" not in rule:
        return True
    for peer in rule["from"]:
        if peer.get("namespaceSelector") == {} and not peer.get("podSelector"):
            return True
        if peer.get("ipBlock", {}).get("cidr") in ("0.0.0.0/0", "::/0"):
            return True
    return False


def network(docs):
    pols = [d for d in docs if d["kind"] == "NetworkPolicy"]
    deny = [p for p in pols if p["spec"]["podSelector"] == {} and not p["spec"].get("ingress")]
    need(deny, "no default-deny ingress NetworkPolicy")
    watch_from = []
    for p in pols:
        sel = p["spec"]["podSelector"].get("matchLabels", {})
        for rule in p["spec"].get("ingress", []):
            if open_to_everyone(rule):  # reachable from anywhere: ingest only
                need(sel == {"app.kubernetes.io/name": "ketenhub-ingest"}, f"NetworkPolicy {p['metadata']['name']} opens {sel} to everyone")
            if sel == {"app.kubernetes.io/name": "ketenhub-watch"}:
                watch_from += rule.get("from", [])
    # watch's page: from a labelled namespace (the operators' ingress) only.
    need(watch_from and all(peer.get("namespaceSelector", {}).get("matchLabels") for peer in watch_from),
         "ketenhub-watch not limited to the operators' namespace")


def budgets(docs):
    """Every workload has a PodDisruptionBudget selecting it."""
    pdbs = [d["spec"]["selector"].get("matchLabels", {}) for d in docs if d["kind"] == "PodDisruptionBudget"]
    for d in docs:
        if d["kind"] in ("Deployment", "StatefulSet"):
            labels = d["spec"]["template"]["metadata"].get("labels", {})
            need(any(sel and sel.items() <= labels.items() for sel in pdbs), f"{d['metadata']['name']}: no PodDisruptionBudget")


docs = [d for d in yaml.safe_load_all(sys.stdin) if d]
for d in docs:
    if d["kind"] == "KafkaTopic":
        kafka_topic(d)
    elif d["kind"] == "KafkaUser":
        kafka_user(d)
    elif d["kind"] in ("Deployment", "StatefulSet"):
        workload(d)
    need(d["kind"] != "PodDisruptionBudget" or d["spec"].get("minAvailable") or d["spec"].get("maxUnavailable"), "PDB without a bound")
kinds = {d["kind"] for d in docs}
need({"KafkaTopic", "KafkaUser", "Deployment", "StatefulSet", "PodDisruptionBudget", "NetworkPolicy", "ConfigMap"} <= kinds, f"kinds missing: {kinds}")
network(docs)
budgets(docs)
for p in problems:
    print("FAIL:", p)
print(f"deploy checks: {len(docs)} resources, {len(problems)} problems")
sys.exit(1 if problems else 0)
