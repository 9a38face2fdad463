package dev.roost.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.roost.api.Peers;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodAffinityTerm;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.ratis.protocol.RaftPeer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The manifests in {@code deploy/k8s}, parsed strictly into the Kubernetes model (fabric8), and the
 * invariants a Roost cluster needs of them. {@code kubectl --dry-run=server} would need an API
 * server; this runs in every build. Strict means: every file is in the kustomization, every object
 * is of a kind this test knows, and no field is unknown to the model (the model keeps unknown
 * fields in {@code additionalProperties} instead of failing, so the test walks every object for
 * them).
 *
 * <p>The environment the StatefulSet gives a pod is run through the server's own {@link
 * ServerConfig#resolve}, so a manifest that would start a node with the wrong id or peer list fails
 * here, not in a cluster.
 */
class KubernetesManifestsTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final ObjectMapper MODEL =
      JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

  /** The kinds deploy/k8s may hold, and their model classes. */
  private static final Map<String, Class<? extends HasMetadata>> KINDS =
      Map.of(
          "v1/ConfigMap", ConfigMap.class,
          "v1/Service", Service.class,
          "apps/v1/StatefulSet", StatefulSet.class,
          "policy/v1/PodDisruptionBudget", PodDisruptionBudget.class,
          "networking.k8s.io/v1/NetworkPolicy", NetworkPolicy.class);

  private static Path dir;
  private static final List<HasMetadata> objects = new ArrayList<>();

  private static StatefulSet statefulSet;
  private static Container container;
  private static Map<String, String> podLabels;

  @BeforeAll
  static void parseEveryManifest() throws IOException {
    dir = Path.of(System.getProperty("roost.deploy.dir", "../deploy")).resolve("k8s");
    for (Path file : manifestFiles()) {
      for (JsonNode doc :
          YAML.readValues(YAML.createParser(file.toFile()), JsonNode.class).readAll()) {
        objects.add(parse(file, doc));
      }
    }
    statefulSet = only(StatefulSet.class);
    PodSpec pod = statefulSet.getSpec().getTemplate().getSpec();
    assertThat(pod.getContainers()).hasSize(1);
    container = pod.getContainers().get(0);
    podLabels = statefulSet.getSpec().getTemplate().getMetadata().getLabels();
  }

  /** Every YAML file of deploy/k8s but the kustomization, which must list exactly these. */
  private static List<Path> manifestFiles() throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files =
          s.filter(p -> p.getFileName().toString().matches(".*\\.ya?ml"))
              .filter(p -> !p.getFileName().toString().equals("kustomization.yaml"))
              .sorted()
              .toList();
    }
    JsonNode kustomization = YAML.readTree(dir.resolve("kustomization.yaml").toFile());
    assertThat(fieldNames(kustomization))
        .as("kustomization.yaml fields")
        .isSubsetOf("apiVersion", "kind", "resources", "images");
    assertThat(kustomization.get("kind").asText()).isEqualTo("Kustomization");
    Set<String> listed = new TreeSet<>();
    kustomization.get("resources").forEach(r -> listed.add(r.asText()));
    assertThat(listed)
        .as("kustomization resources")
        .isEqualTo(files.stream().map(p -> p.getFileName().toString()).collect(Collectors.toSet()));
    assertThat(kustomization.get("images").get(0).get("name").asText())
        .as("kustomization image name")
        .isEqualTo("roost-server");
    return files;
  }

  private static Set<String> fieldNames(JsonNode node) {
    Set<String> names = new TreeSet<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  private static HasMetadata parse(Path file, JsonNode doc) throws IOException {
    String kind = doc.path("apiVersion").asText() + "/" + doc.path("kind").asText();
    Class<? extends HasMetadata> type = KINDS.get(kind);
    if (type == null) {
      fail("%s: unexpected kind %s (expected one of %s)", file.getFileName(), kind, KINDS.keySet());
    }
    HasMetadata object = MODEL.treeToValue(doc, type);
    List<String> unknown = new ArrayList<>();
    unknownFields(object, kind, unknown);
    assertThat(unknown).as("unknown fields in %s", file.getFileName()).isEmpty();
    return object;
  }

  /**
   * Collects every non-empty {@code additionalProperties} under {@code o}: the fields the model
   * does not know, which Kubernetes would reject or, worse, ignore.
   */
  private static void unknownFields(Object o, String path, List<String> unknown) {
    if (o instanceof Collection<?> c) {
      int i = 0;
      for (Object e : c) {
        unknownFields(e, path + "[" + i++ + "]", unknown);
      }
      return;
    }
    if (o instanceof Map<?, ?> m) {
      m.forEach((k, v) -> unknownFields(v, path + "." + k, unknown));
      return;
    }
    if (o == null || !o.getClass().getPackageName().startsWith("io.fabric8.kubernetes")) {
      return;
    }
    for (Method getter : o.getClass().getMethods()) {
      if (getter.getParameterCount() != 0
          || Modifier.isStatic(getter.getModifiers())
          || !getter.getName().startsWith("get")
          || getter.getDeclaringClass() == Object.class) {
        continue;
      }
      Object value;
      try {
        value = getter.invoke(o);
      } catch (IllegalAccessException | InvocationTargetException e) {
        throw new AssertionError(path + "." + getter.getName(), e);
      }
      if (getter.getName().equals("getAdditionalProperties")) {
        if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
          unknown.add(path + ": " + extra.keySet());
        }
      } else {
        unknownFields(value, path + "." + getter.getName().substring(3), unknown);
      }
    }
  }

  private static <T extends HasMetadata> List<T> all(Class<T> type) {
    return objects.stream().filter(type::isInstance).map(type::cast).toList();
  }

  private static <T extends HasMetadata> T only(Class<T> type) {
    List<T> found = all(type);
    assertThat(found).as(type.getSimpleName()).hasSize(1);
    return found.get(0);
  }

  private static <T extends HasMetadata> T named(Class<T> type, String name) {
    return all(type).stream()
        .filter(o -> o.getMetadata().getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " " + name));
  }

  @Test
  void theStrictnessCheckFindsAMisspelledField() throws IOException {
    JsonNode doc =
        YAML.readTree(
            "apiVersion: v1\nkind: Service\nmetadata: {name: x}\n"
                + "spec: {clusterIP: None, publishNotReadyAdresses: true}\n");
    List<String> unknown = new ArrayList<>();
    unknownFields(MODEL.treeToValue(doc, Service.class), "Service", unknown);
    assertThat(unknown).containsExactly("Service.Spec: [publishNotReadyAdresses]");
  }

  /** The environment the StatefulSet gives pod {@code ordinal}, as the kubelet would build it. */
  private static Map<String, String> podEnv(int ordinal) {
    Map<String, String> env = new HashMap<>();
    // envFrom first: an explicit env entry wins over it, as in Kubernetes.
    for (EnvFromSource from : container.getEnvFrom()) {
      assertThat(from.getConfigMapRef()).as("envFrom is a ConfigMap").isNotNull();
      env.putAll(named(ConfigMap.class, from.getConfigMapRef().getName()).getData());
    }
    for (EnvVar v : container.getEnv()) {
      if (v.getValueFrom() == null) {
        env.put(v.getName(), v.getValue());
      } else if (v.getValueFrom().getFieldRef() != null) {
        assertThat(v.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.name");
        env.put(v.getName(), statefulSet.getMetadata().getName() + "-" + ordinal);
      } else {
        // A Secret the test does not have: it must be optional, or no pod could start without it.
        assertThat(v.getValueFrom().getSecretKeyRef().getOptional())
            .as("secret %s is optional", v.getName())
            .isTrue();
      }
    }
    return env;
  }

  private static ServerConfig resolve(int ordinal) throws ConfigException {
    return ServerConfig.resolve(Map.of(), podEnv(ordinal));
  }

  private static int containerPort(String name) {
    return container.getPorts().stream()
        .filter(p -> name.equals(p.getName()))
        .mapToInt(ContainerPort::getContainerPort)
        .findFirst()
        .orElseThrow(() -> new AssertionError("no container port " + name));
  }

  /** A probe's or service's target port as a number: a port name resolves through the container. */
  private static int resolve(IntOrString port) {
    return port.getIntVal() != null ? port.getIntVal() : containerPort(port.getStrVal());
  }

  @Test
  void everyPodResolvesItsOwnIdAndTheFullPeerListThroughTheServersConfigCode() throws Exception {
    int replicas = statefulSet.getSpec().getReplicas();
    String headless = statefulSet.getSpec().getServiceName();
    String expectedPeers =
        IntStream.range(0, replicas)
            .mapToObj(
                i ->
                    "roost-%d=roost-%d.%s:%d/roost-%d.%s:%d"
                        .formatted(
                            i,
                            i,
                            headless,
                            containerPort("raft"),
                            i,
                            headless,
                            containerPort("client")))
            .collect(Collectors.joining(","));
    for (int i = 0; i < replicas; i++) {
      ServerConfig config = resolve(i);
      assertThat(config.id()).isEqualTo("roost-" + i);
      assertThat(Peers.format(config.peers())).isEqualTo(expectedPeers);
      assertThat(config.join()).as("an initial member does not join").isFalse();
      assertThat(config.raftPort()).isEqualTo(containerPort("raft"));
      assertThat(config.clientPort()).isEqualTo(containerPort("client"));
      assertThat(config.http().getPort()).isEqualTo(containerPort("http"));
    }
    // Clients get the same members.
    assertThat(
            Peers.format(
                Peers.parse(named(ConfigMap.class, "roost-client").getData().get("ROOST_PEERS"))))
        .isEqualTo(expectedPeers);
  }

  @Test
  void aPodAddedByScalingUpJoinsAtItsOwnStableAddress() throws Exception {
    int added = statefulSet.getSpec().getReplicas();
    ServerConfig config = resolve(added);

    assertThat(config.id()).isEqualTo("roost-" + added);
    assertThat(config.join()).isTrue();
    RaftPeer self = config.self();
    assertThat(self.getAddress())
        .isEqualTo(
            "roost-%d.%s:%d"
                .formatted(added, statefulSet.getSpec().getServiceName(), containerPort("raft")));
  }

  @Test
  void probesUseTheServersHttpPortAndPaths() throws Exception {
    int http = resolve(0).http().getPort();
    Probe readiness = container.getReadinessProbe();
    Probe liveness = container.getLivenessProbe();

    assertThat(readiness.getHttpGet().getPath()).isEqualTo("/ready");
    assertThat(resolve(readiness.getHttpGet().getPort())).isEqualTo(http);
    assertThat(liveness.getHttpGet().getPath()).isEqualTo("/health");
    assertThat(resolve(liveness.getHttpGet().getPort())).isEqualTo(http);
    // The endpoint serves HTTPS once TLS is on, as it is here.
    assertThat(resolve(0).tls()).isNotNull();
    assertThat(readiness.getHttpGet().getScheme()).isEqualTo("HTTPS");
    assertThat(liveness.getHttpGet().getScheme()).isEqualTo("HTTPS");
    assertThat(statefulSet.getSpec().getTemplate().getMetadata().getAnnotations())
        .containsEntry("prometheus.io/port", String.valueOf(http))
        .containsEntry("prometheus.io/path", "/metrics");
  }

  @Test
  void everyPodRunsTlsWithTheFilesOfTheTlsSecret() throws Exception {
    TlsFiles tls = resolve(0).tls();
    assertThat(tls).as("secure by default: no --insecure").isNotNull();
    String volume = mountOf(tls.ca().getParent());
    assertThat(volume).isNotNull();
    assertThat(tls.cert().getParent()).isEqualTo(tls.ca().getParent());
    assertThat(tls.key().getParent()).isEqualTo(tls.ca().getParent());
    assertThat(
            statefulSet.getSpec().getTemplate().getSpec().getVolumes().stream()
                .filter(v -> v.getName().equals(volume))
                .map(v -> v.getSecret().getSecretName()))
        .containsExactly("roost-tls");
  }

  @Test
  void onlyTheStatefulSetsPodsReachThePeerPort() {
    NetworkPolicy policy = only(NetworkPolicy.class);
    assertThat(matches(policy.getSpec().getPodSelector(), podLabels)).isTrue();
    assertThat(policy.getSpec().getPolicyTypes()).containsExactly("Ingress");
    int raft = containerPort("raft");
    for (NetworkPolicyIngressRule rule : policy.getSpec().getIngress()) {
      List<Integer> ports = rule.getPorts().stream().map(p -> resolve(p.getPort())).toList();
      if (ports.contains(raft)) {
        assertThat(ports).containsExactly(raft);
        assertThat(rule.getFrom()).isNotEmpty();
        for (NetworkPolicyPeer from : rule.getFrom()) {
          assertThat(from.getNamespaceSelector()).isNull();
          assertThat(from.getIpBlock()).isNull();
          assertThat(matches(from.getPodSelector(), podLabels)).isTrue();
        }
      } else {
        assertThat(ports).containsExactlyInAnyOrder(containerPort("client"), containerPort("http"));
      }
    }
    assertThat(policy.getSpec().getIngress())
        .anySatisfy(
            r -> assertThat(r.getPorts()).extracting(p -> resolve(p.getPort())).contains(raft));
  }

  @Test
  void theDisruptionBudgetKeepsAMajorityOfTheReplicas() {
    PodDisruptionBudget pdb = only(PodDisruptionBudget.class);
    int replicas = statefulSet.getSpec().getReplicas();
    IntOrString max = pdb.getSpec().getMaxUnavailable();

    assertThat(max.getIntVal()).as("maxUnavailable as a number").isNotNull();
    assertThat(replicas - max.getIntVal()).isGreaterThanOrEqualTo(replicas / 2 + 1);
    assertThat(matches(pdb.getSpec().getSelector(), podLabels)).isTrue();
  }

  @Test
  void antiAffinitySpreadsTheMembersOverNodesWithASelectorThatMatchesThePods() {
    List<PodAffinityTerm> terms =
        statefulSet
            .getSpec()
            .getTemplate()
            .getSpec()
            .getAffinity()
            .getPodAntiAffinity()
            .getRequiredDuringSchedulingIgnoredDuringExecution();

    assertThat(terms).hasSize(1);
    assertThat(terms.get(0).getTopologyKey()).isEqualTo("kubernetes.io/hostname");
    assertThat(matches(terms.get(0).getLabelSelector(), podLabels)).isTrue();
    assertThat(matches(statefulSet.getSpec().getSelector(), podLabels)).isTrue();
  }

  @Test
  void theHeadlessServiceGivesEveryPodADnsNameEvenBeforeItIsReady() {
    Service headless = named(Service.class, statefulSet.getSpec().getServiceName());

    assertThat(headless.getSpec().getClusterIP()).isEqualTo("None");
    assertThat(headless.getSpec().getPublishNotReadyAddresses()).isTrue();
    assertThat(statefulSet.getSpec().getPodManagementPolicy()).isEqualTo("Parallel");
    for (Service s : all(Service.class)) {
      assertThat(s.getSpec().getSelector()).isNotEmpty();
      assertThat(podLabels).containsAllEntriesOf(s.getSpec().getSelector());
      for (ServicePort p : s.getSpec().getPorts()) {
        assertThat(resolve(p.getTargetPort()))
            .as("%s port %s", s.getMetadata().getName(), p.getName())
            .isEqualTo(p.getPort());
      }
    }
  }

  @Test
  void theClientServicePublishesTheClientPortButNeverThePeerPort() {
    Service client = named(Service.class, "roost");

    assertThat(client.getSpec().getPorts())
        .extracting(ServicePort::getTargetPort)
        .extracting(KubernetesManifestsTest::resolve)
        .contains(containerPort("client"), containerPort("http"))
        .doesNotContain(containerPort("raft"));
  }

  @Test
  void dataLivesOnThePersistentVolumeAndLogsOnAWritableVolume() throws Exception {
    ServerConfig config = resolve(0);
    List<PersistentVolumeClaim> claims = statefulSet.getSpec().getVolumeClaimTemplates();
    assertThat(claims).hasSize(1);
    String claim = claims.get(0).getMetadata().getName();

    assertThat(mountOf(config.dataDir())).isEqualTo(claim);
    // The root filesystem is read-only: the log file must be on a mounted volume too.
    assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(mountOf(config.logFile().getParent())).isNotNull();
  }

  /** The volume mounted at {@code path}, or null. */
  private static String mountOf(Path path) {
    return container.getVolumeMounts().stream()
        .filter(m -> Path.of(m.getMountPath()).equals(path))
        .map(VolumeMount::getName)
        .findFirst()
        .orElse(null);
  }

  @Test
  void thePodRunsAsNonRootWithBoundedResourcesAndTimeToHandOff() {
    PodSpec pod = statefulSet.getSpec().getTemplate().getSpec();
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSecurityContext().getRunAsUser()).isPositive();
    assertThat(container.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(container.getSecurityContext().getCapabilities().getDrop()).contains("ALL");

    Map<String, Quantity> requests = container.getResources().getRequests();
    Map<String, Quantity> limits = container.getResources().getLimits();
    assertThat(requests).containsKeys("cpu", "memory");
    assertThat(limits).containsKeys("cpu", "memory");
    assertThat(Quantity.getAmountInBytes(limits.get("memory")))
        .isGreaterThanOrEqualTo(Quantity.getAmountInBytes(requests.get("memory")));
    // Closing a leader's Raft server and electing another takes about a second; Kubernetes' own
    // default (30 s) is the floor.
    assertThat(pod.getTerminationGracePeriodSeconds()).isGreaterThanOrEqualTo(30);
    assertThat(container.getImage()).isEqualTo("roost-server");
  }

  /** Whether {@code selector} selects a pod with {@code labels}. */
  private static boolean matches(LabelSelector selector, Map<String, String> labels) {
    if (selector == null) {
      return false;
    }
    Map<String, String> required =
        selector.getMatchLabels() == null ? Map.of() : selector.getMatchLabels();
    // An empty selector selects every pod of the namespace: never what a Roost object means.
    boolean ok =
        !(required.isEmpty() && selector.getMatchExpressions().isEmpty())
            && labels.entrySet().containsAll(required.entrySet());
    for (LabelSelectorRequirement r : selector.getMatchExpressions()) {
      String value = labels.get(r.getKey());
      ok &=
          switch (r.getOperator()) {
            case "In" -> r.getValues().contains(value);
            case "NotIn" -> !r.getValues().contains(value);
            case "Exists" -> value != null;
            case "DoesNotExist" -> value == null;
            default -> throw new AssertionError("operator " + r.getOperator());
          };
    }
    return ok;
  }
}
