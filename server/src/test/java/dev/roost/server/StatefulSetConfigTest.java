package dev.roost.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.roost.api.Peers;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The members of a StatefulSet deployment: {@code --statefulset}, {@code --service}, {@code
 * --replicas} and {@code --raft-port} instead of {@code --peers}, as the Kubernetes manifests set
 * them through {@code ROOST_*} variables.
 */
class StatefulSetConfigTest {
  private static Map<String, String> env(String id) {
    Map<String, String> env = new HashMap<>();
    env.put("ROOST_ID", id);
    env.put("ROOST_STATEFULSET", "roost");
    env.put("ROOST_SERVICE", "roost-peers");
    env.put("ROOST_REPLICAS", "3");
    env.put("ROOST_DATA_DIR", "/var/lib/roost");
    env.put("ROOST_HTTP", "0.0.0.0:7101");
    env.put("ROOST_INSECURE", "true");
    return env;
  }

  private static String error(Map<String, String> flags, Map<String, String> env) {
    return assertThatThrownBy(() -> ServerConfig.resolve(flags, env))
        .isInstanceOf(ConfigException.class)
        .actual()
        .getMessage();
  }

  @Test
  void thePodsOfTheStatefulSetAreTheMembers() throws Exception {
    ServerConfig c = ServerConfig.resolve(Map.of(), env("roost-1"));

    assertThat(Peers.format(c.peers()))
        .isEqualTo(
            "roost-0=roost-0.roost-peers:7001/roost-0.roost-peers:7002,"
                + "roost-1=roost-1.roost-peers:7001/roost-1.roost-peers:7002,"
                + "roost-2=roost-2.roost-peers:7001/roost-2.roost-peers:7002");
    assertThat(c.id()).isEqualTo("roost-1");
    assertThat(c.raftPort()).isEqualTo(ServerConfig.DEFAULT_RAFT_PORT);
    assertThat(c.clientPort()).isEqualTo(ServerConfig.DEFAULT_CLIENT_PORT);
    assertThat(c.tuning().peerBind().host()).as("a pod binds every interface").isNull();
    assertThat(c.join()).isFalse();
  }

  @Test
  void aFlagOverridesTheEnvironmentAsForEverySetting() throws Exception {
    ServerConfig c =
        ServerConfig.resolve(
            Map.of("raft-port", "9000", "service", "roost-peers.prod.svc"), env("roost-0"));

    assertThat(c.self().getAddress()).isEqualTo("roost-0.roost-peers.prod.svc:9000");
  }

  @Test
  void aPodBeyondTheInitialMembersJoins() throws Exception {
    ServerConfig c = ServerConfig.resolve(Map.of(), env("roost-3"));

    assertThat(c.join()).isTrue();
    assertThat(c.self().getAddress()).isEqualTo("roost-3.roost-peers:7001");
  }

  @Test
  void anIdThatIsNoPodOfTheStatefulSetIsRefused() {
    assertThat(error(Map.of(), env("other-0")))
        .startsWith("--id (from ROOST_ID): unknown peer id 'other-0'");
  }

  @Test
  void theStatefulSetSettingsAreCheckedAndNamed() {
    Map<String, String> noService = env("roost-0");
    noService.remove("ROOST_SERVICE");
    assertThat(error(Map.of(), noService))
        .isEqualTo("--service is required (or 'service' in the --config file, or ROOST_SERVICE)");

    Map<String, String> noReplicas = env("roost-0");
    noReplicas.remove("ROOST_REPLICAS");
    assertThat(error(Map.of(), noReplicas)).startsWith("--replicas is required");

    assertThat(error(Map.of("replicas", "0"), env("roost-0")))
        .isEqualTo("--replicas: expected a positive integer, got '0'");
    assertThat(error(Map.of("replicas", "100"), env("roost-0")))
        .isEqualTo("--replicas: at most 99, got 100");
    assertThat(error(Map.of("raft-port", "70000"), env("roost-0")))
        .isEqualTo("--raft-port: port out of range: 70000");
    assertThat(error(Map.of("peers", "n1=127.0.0.1:7001"), env("roost-0")))
        .isEqualTo("--statefulset (from ROOST_STATEFULSET): cannot be combined with --peers");
  }

  @Test
  void withNeitherPeersNorAStatefulSetTheErrorNamesBoth() {
    Map<String, String> none = env("roost-0");
    none.remove("ROOST_STATEFULSET");
    assertThat(error(Map.of(), none))
        .isEqualTo(
            "--peers is required (or 'peers' in the --config file, or ROOST_PEERS), or"
                + " --statefulset with --service and --replicas");
  }
}
