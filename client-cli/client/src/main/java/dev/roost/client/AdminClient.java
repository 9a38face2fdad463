package dev.roost.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.roost.proto.StatusCode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The operator's client for a Roost cluster's admin operations and status, over the servers' HTTP
 * endpoints ({@code --http} of each server), not the Raft port: Ratis' admin RPCs have no
 * authentication, so the servers refuse them and serve the operations under {@code /admin/},
 * authorized by the shared admin secret.
 *
 * <p>The client is given some or all of the members' HTTP endpoints. It reads each one's {@code
 * /status} (public, no secret) to learn which member has which endpoint and which one leads, and
 * sends add, remove and transfer to the leader. Removing the leader moves leadership first, to the
 * live voter that has committed the most, and then removes it on the new leader, so the group never
 * waits for an election; that needs the new leader's endpoint among those given.
 *
 * <p>Failures are {@link RoostException}s with the server's code: {@code PERMISSION_DENIED} without
 * the right secret, {@code ALREADY_EXISTS} for an id or address in use, {@code NOT_FOUND} for an
 * unknown member, {@code FAILED_PRECONDITION} for a removal that would leave fewer than a majority
 * alive or a second change while one is in progress, {@code DEADLINE_EXCEEDED} when a new server
 * does not answer (the configuration is then unchanged), {@code UNAVAILABLE} when no endpoint
 * answers or no leader is known. A failed operation changed nothing unless its message says so.
 */
public final class AdminClient {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** How long one admin operation may take: adding a server waits for it to catch up. */
  public static final Duration OPERATION_TIMEOUT = Duration.ofSeconds(75);

  private final List<String> endpoints;
  private final String secret;
  private final Duration statusTimeout;
  private final HttpClient http;

  /**
   * @param endpoints HTTP endpoints ({@code host:port}) of some or all members
   * @param secret the admin secret, or null for status only
   * @param statusTimeout how long one {@code /status} request may take
   */
  public AdminClient(List<String> endpoints, String secret, Duration statusTimeout) {
    if (endpoints.isEmpty()) {
      throw new IllegalArgumentException("no HTTP endpoints given");
    }
    this.endpoints = List.copyOf(endpoints);
    this.secret = secret;
    this.statusTimeout = statusTimeout;
    this.http = HttpClient.newBuilder().connectTimeout(statusTimeout).build();
  }

  /**
   * One endpoint's {@code /status} answer, or why it gave none.
   *
   * @param endpoint the HTTP endpoint asked
   * @param status the JSON body, or null when it did not answer
   * @param error why it did not answer, "" when it did
   */
  public record EndpointStatus(String endpoint, JsonNode status, String error) {
    /** The member's id, or "" when it did not answer. */
    public String id() {
      return status == null ? "" : status.path("id").asText();
    }

    boolean leads() {
      return status != null && "LEADER".equals(status.path("role").asText());
    }
  }

  /** Every endpoint's {@code /status}, in the order given. */
  public List<EndpointStatus> statuses() {
    List<EndpointStatus> out = new ArrayList<>();
    for (String e : endpoints) {
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(URI.create("http://" + e + "/status"))
                    .timeout(statusTimeout)
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        out.add(
            r.statusCode() == 200
                ? new EndpointStatus(e, JSON.readTree(r.body()), "")
                : new EndpointStatus(e, null, "HTTP " + r.statusCode() + ": " + r.body().strip()));
      } catch (IOException ex) {
        out.add(new EndpointStatus(e, null, describe(ex)));
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        throw new RoostException(StatusCode.UNAVAILABLE, "interrupted", false);
      }
    }
    return out;
  }

  /** Adds server {@code id} (started with {@code --join}) at Raft address {@code address}. */
  public JsonNode add(String id, String address) {
    return onLeader(
        "add",
        Map.of("id", id, "address", address),
        "added",
        peers -> peers.contains(id + "=" + address));
  }

  /** Removes member {@code id}; when it leads, moves leadership away first. */
  public JsonNode remove(String id) {
    EndpointStatus leader = leader();
    if (leader.id().equals(id)) {
      String successor = successor(leader.status(), id);
      transfer(successor);
    }
    return onLeader(
        "remove",
        Map.of("id", id),
        "removed",
        peers -> peers.stream().noneMatch(p -> p.startsWith(id + "=")));
  }

  /** Makes member {@code id} the leader. */
  public JsonNode transfer(String id) {
    return onLeader("transfer", Map.of("id", id), null, null);
  }

  /**
   * Takes a snapshot on every member that answers, each of its own state.
   *
   * @return one result per endpoint, by member id (failures as objects with code and message)
   */
  public Map<String, JsonNode> snapshotAll() {
    Map<String, JsonNode> out = new LinkedHashMap<>();
    List<EndpointStatus> all = statuses();
    for (EndpointStatus s : all) {
      if (s.status() == null) {
        continue;
      }
      try {
        out.put(s.id(), post(s.endpoint(), "snapshot", Map.of()));
      } catch (RoostException e) {
        if (e.code() == StatusCode.PERMISSION_DENIED) {
          throw e;
        }
        out.put(
            s.id(),
            JSON.createObjectNode().put("code", e.code().name()).put("message", e.getMessage()));
      }
    }
    if (out.isEmpty()) {
      throw unreachable(all);
    }
    return out;
  }

  /** The endpoint of the member that leads now, by the members' own reports. */
  EndpointStatus leader() {
    List<EndpointStatus> all = statuses();
    Optional<EndpointStatus> leader =
        all.stream()
            .filter(EndpointStatus::leads)
            .max(Comparator.comparingLong(s -> s.status().path("term").asLong()));
    if (leader.isPresent()) {
      return leader.get();
    }
    if (all.stream().allMatch(s -> s.status() == null)) {
      throw unreachable(all);
    }
    String known =
        all.stream()
            .filter(s -> s.status() != null)
            .map(s -> s.status().path("leader").asText(""))
            .filter(l -> !l.isEmpty() && !l.equals("null"))
            .findFirst()
            .orElse("");
    throw new RoostException(
        StatusCode.UNAVAILABLE,
        known.isEmpty()
            ? "no member reports a leader now; try again shortly"
            : "the leader is "
                + known
                + " but its HTTP endpoint is not among "
                + String.join(",", endpoints)
                + " (add it with --http-endpoints)",
        false);
  }

  /**
   * Sends {@code op} to the leader. If leadership moved between finding the leader and asking it,
   * looks again until {@link #OPERATION_TIMEOUT}.
   *
   * <p>A membership change the leader answered {@code UNAVAILABLE} may still have been committed
   * (the leader stepped down after logging it, and the next one committed it), so its retry can be
   * refused as already done. When a retry is refused so and {@code done} holds for the leader's
   * members ({@code id=address} each), the change is reported as {@code outcome} rather than as a
   * refusal of a change that did happen.
   *
   * @param outcome what a change found already done reports, or null if {@code op} changes nothing
   * @param done whether the leader's members show the change made
   */
  private JsonNode onLeader(
      String op, Map<String, String> params, String outcome, Predicate<List<String>> done) {
    long deadline = System.nanoTime() + OPERATION_TIMEOUT.toNanos();
    boolean retried = false;
    while (true) {
      EndpointStatus leader;
      try {
        leader = leader();
      } catch (RoostException e) {
        if (e.code() != StatusCode.UNAVAILABLE || System.nanoTime() > deadline) {
          throw e;
        }
        sleep();
        continue;
      }
      try {
        return post(leader.endpoint(), op, params);
      } catch (RoostException e) {
        if (retried
            && done != null
            && (e.code() == StatusCode.ALREADY_EXISTS || e.code() == StatusCode.NOT_FOUND)) {
          JsonNode now = leader().status();
          if (done.test(members(now))) {
            return JSON.createObjectNode()
                .put("outcome", outcome)
                .put("id", params.get("id"))
                .put("server", now.path("id").asText())
                .put("term", now.path("term").asLong())
                .put("commitIndex", now.path("commitIndex").asLong());
          }
        }
        // UNAVAILABLE from a server: it no longer leads, or it is busy stepping down.
        if (e.code() != StatusCode.UNAVAILABLE || System.nanoTime() > deadline) {
          throw e;
        }
        retried = true;
        sleep();
      }
    }
  }

  /** The members in a status, as {@code id=address}. */
  private static List<String> members(JsonNode status) {
    List<String> out = new ArrayList<>();
    status
        .path("peers")
        .forEach(p -> out.add(p.path("id").asText() + "=" + p.path("address").asText()));
    return out;
  }

  private JsonNode post(String endpoint, String op, Map<String, String> params) {
    StringBuilder query = new StringBuilder();
    params.forEach(
        (k, v) ->
            query
                .append(query.length() == 0 ? "?" : "&")
                .append(k)
                .append('=')
                .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://" + endpoint + "/admin/" + op + query))
            .timeout(OPERATION_TIMEOUT)
            .POST(HttpRequest.BodyPublishers.noBody());
    if (secret != null && !secret.isEmpty()) {
      request.header("Authorization", "Bearer " + secret);
    }
    HttpResponse<String> r;
    try {
      r = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new RoostException(
          StatusCode.UNAVAILABLE, endpoint + " did not answer " + op + ": " + describe(e), false);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RoostException(StatusCode.UNAVAILABLE, "interrupted", false);
    }
    JsonNode body;
    try {
      body = JSON.readTree(r.body());
    } catch (IOException e) {
      throw new RoostException(
          StatusCode.INTERNAL,
          endpoint + " answered " + op + " with HTTP " + r.statusCode() + ": " + r.body(),
          false);
    }
    String code = body.path("code").asText("INTERNAL");
    if (code.equals("OK")) {
      return body;
    }
    StatusCode status;
    try {
      status = StatusCode.valueOf(code);
    } catch (IllegalArgumentException e) {
      status = StatusCode.INTERNAL;
    }
    throw new RoostException(status, body.path("message").asText(code), false);
  }

  /** The live voter other than {@code leader} with the highest commit index, per its status. */
  private static String successor(JsonNode leaderStatus, String leader) {
    String best = null;
    long bestCommit = Long.MIN_VALUE;
    for (JsonNode m : leaderStatus.path("members")) {
      String id = m.path("id").asText();
      long lastContact = m.path("lastContactMs").asLong(-1);
      if (!id.equals(leader)
          && m.path("role").asText().equals("FOLLOWER")
          && lastContact >= 0
          && lastContact < 3_000
          && m.path("commitIndex").asLong() > bestCommit) {
        best = id;
        bestCommit = m.path("commitIndex").asLong();
      }
    }
    if (best == null) {
      throw new RoostException(
          StatusCode.FAILED_PRECONDITION,
          leader + " leads and no other live voting member can take over; add one first",
          false);
    }
    return best;
  }

  private RoostException unreachable(List<EndpointStatus> all) {
    return new RoostException(
        StatusCode.UNAVAILABLE,
        "no HTTP endpoint answered: "
            + String.join(
                ", ", all.stream().map(s -> s.endpoint() + " (" + s.error() + ")").toList()),
        false);
  }

  private static String describe(Exception e) {
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  private static void sleep() {
    try {
      Thread.sleep(200);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RoostException(StatusCode.UNAVAILABLE, "interrupted", false);
    }
  }
}
