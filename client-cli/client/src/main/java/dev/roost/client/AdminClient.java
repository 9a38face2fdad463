package dev.roost.client;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.roost.api.ControlJson;
import dev.roost.api.HttpStatus;
import dev.roost.api.Peers;
import dev.roost.proto.AddMemberRequest;
import dev.roost.proto.AdminReply;
import dev.roost.proto.ErrorReply;
import dev.roost.proto.MemberProgress;
import dev.roost.proto.MemberStatus;
import dev.roost.proto.RemoveMemberRequest;
import dev.roost.proto.Role;
import dev.roost.proto.Settings;
import dev.roost.proto.SnapshotRequest;
import dev.roost.proto.StatusCode;
import dev.roost.proto.TransferLeadershipRequest;
import dev.roost.proto.UpdateSettingsRequest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.apache.ratis.protocol.RaftPeer;

/**
 * The operator's client for a Roost cluster's admin operations and status, over the servers' HTTP
 * endpoints ({@code --http} of each server), not the Raft port: Ratis' admin RPCs have no
 * authentication, so the servers refuse them and serve the operations under {@code /admin/},
 * authorized by the shared admin secret. Requests and answers are the control-plane messages of
 * roost.proto in proto-JSON.
 *
 * <p>The client is given some or all of the members' HTTP endpoints. It reads each one's {@code
 * /status} (public, no secret) to learn which member has which endpoint and which one leads, and
 * sends add, remove and transfer to the leader. Removing the leader moves leadership first, to the
 * live voter that has committed the most, and then removes it on the new leader, so the group never
 * waits for an election; that needs the new leader's endpoint among those given.
 *
 * <p>Retries: finding the leader and sending it the operation is one attempt under {@link
 * ClientRetry}'s policy, the one every {@link RoostClient} call has, with a deadline of {@link
 * #OPERATION_TIMEOUT}: an attempt that fails with {@code UNAVAILABLE} (no leader known, the member
 * asked no longer leads, no endpoint answered) is retried with its backoff; any other code ends the
 * operation.
 *
 * <p>Failures are {@link RoostException}s with the server's code: {@code PERMISSION_DENIED} without
 * the right secret, {@code ALREADY_EXISTS} for an id or address in use, {@code NOT_FOUND} for an
 * unknown member, {@code FAILED_PRECONDITION} for a removal that would leave fewer than a majority
 * alive or a second change while one is in progress, {@code DEADLINE_EXCEEDED} when a new server
 * does not answer (the configuration is then unchanged), {@code UNAVAILABLE} when no endpoint
 * answers or no leader is known. A failed operation changed nothing unless its message says so.
 */
public final class AdminClient {
  /** How long one admin operation may take: adding a server waits for it to catch up. */
  public static final Duration OPERATION_TIMEOUT = Duration.ofSeconds(75);

  /** A follower that answered the leader within this long counts as live for taking over. */
  private static final long LIVE_CONTACT_MS = 3_000;

  private final List<String> endpoints;
  private final Tls tls;
  private final String secret;
  private final Duration statusTimeout;
  private final HttpClient http;
  // Only its caller-thread path is used, which starts none of its threads.
  private final ClientRetry retry;

  /**
   * @param endpoints HTTP endpoints ({@code host:port}) of some or all members
   * @param tls how to reach them: HTTPS trusting the cluster's CA, or plain HTTP
   * @param secret the admin secret, or null for status only
   * @param statusTimeout how long one {@code /status} request may take
   */
  public AdminClient(List<String> endpoints, Tls tls, String secret, Duration statusTimeout) {
    if (endpoints.isEmpty()) {
      throw new IllegalArgumentException("no HTTP endpoints given");
    }
    this.endpoints = List.copyOf(endpoints);
    this.tls = tls;
    this.secret = secret;
    this.statusTimeout = statusTimeout;
    this.http = tls.http().connectTimeout(statusTimeout).build();
    this.retry =
        new ClientRetry(
            OPERATION_TIMEOUT, String.join(",", this.endpoints), 1, 0, System::nanoTime);
  }

  /**
   * One endpoint's {@code /status} answer, or why it gave none.
   *
   * @param endpoint the HTTP endpoint asked
   * @param status its member's status; empty when it did not answer with one
   * @param error why it did not answer, "" when it did
   */
  public record EndpointStatus(String endpoint, Optional<MemberStatus> status, String error) {
    /** The member's id, or "" when it did not answer. */
    public String id() {
      return status.map(MemberStatus::getId).orElse("");
    }

    /** Whether the member reports that it leads. */
    public boolean leads() {
      return status.map(s -> s.getRole() == Role.LEADER).orElse(false);
    }
  }

  /**
   * What one member answered to a snapshot request: the reply, or the refusal.
   *
   * @param reply the member's reply when it took the snapshot
   * @param error why it did not, when it did not
   */
  public record SnapshotResult(Optional<AdminReply> reply, Optional<ErrorReply> error) {}

  /** Every endpoint's {@code /status}, in the order given. */
  public List<EndpointStatus> statuses() {
    List<EndpointStatus> out = new ArrayList<>();
    for (String e : endpoints) {
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(URI.create(tls.url(e, "/status")))
                    .timeout(statusTimeout)
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        out.add(
            r.statusCode() == 200
                ? new EndpointStatus(
                    e,
                    Optional.of(ControlJson.parse(r.body(), MemberStatus.getDefaultInstance())),
                    "")
                : new EndpointStatus(e, Optional.empty(), describe(refusal(r))));
      } catch (IOException ex) {
        // InvalidProtocolBufferException included: an answer that is no status is none.
        out.add(new EndpointStatus(e, Optional.empty(), describe(ex)));
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        throw new RoostException(StatusCode.UNAVAILABLE, "interrupted", false);
      }
    }
    return out;
  }

  /**
   * Adds server {@code id} (started with {@code --join}) at {@code addresses}, {@code PEER/CLIENT}
   * as in a peer list entry.
   *
   * @throws RoostException INVALID_ARGUMENT, before anything is sent, if {@code addresses} is
   *     malformed or lacks the client address
   */
  public AdminReply add(String id, String addresses) {
    RaftPeer peer;
    try {
      peer = Peers.peer(id, addresses);
    } catch (IllegalArgumentException e) {
      throw new RoostException(StatusCode.INVALID_ARGUMENT, e.getMessage(), false);
    }
    if (!Peers.hasClientAddress(peer)) {
      throw new RoostException(
          StatusCode.INVALID_ARGUMENT,
          "no client address for " + id + ": write " + id + "=" + addresses + "/CLIENT_PORT",
          false);
    }
    String entry = id + "=" + Peers.addresses(peer);
    return onLeader(
        "add",
        AddMemberRequest.newBuilder()
            .setId(id)
            .setAddress(peer.getAddress())
            .setClientAddress(Peers.clientAddress(peer))
            .build(),
        id,
        "added",
        peers -> peers.contains(entry));
  }

  /** Removes member {@code id}; when it leads, moves leadership away first. */
  public AdminReply remove(String id) {
    EndpointStatus leader = leader();
    if (leader.id().equals(id)) {
      transfer(successor(leader.status().orElseThrow(), id));
    }
    return onLeader(
        "remove",
        RemoveMemberRequest.newBuilder().setId(id).build(),
        id,
        "removed",
        peers -> peers.stream().noneMatch(p -> p.startsWith(id + "=")));
  }

  /** Makes member {@code id} the leader. */
  public AdminReply transfer(String id) {
    return onLeader(
        "transfer", TransferLeadershipRequest.newBuilder().setId(id).build(), id, null, null);
  }

  /**
   * Changes the cluster's settings named in {@code changes} (a field left 0 keeps its value)
   * through the log; with none named, only reads them. The reply's {@code settings} are those in
   * effect afterwards, on every member.
   *
   * @throws RoostException {@code INVALID_ARGUMENT} for a value that is not positive, {@code
   *     PERMISSION_DENIED} without the right secret, {@code UNAVAILABLE} without a leader
   */
  public AdminReply settings(Settings changes) {
    return onLeader(
        "settings",
        UpdateSettingsRequest.newBuilder().setSettings(changes).build(),
        "",
        null,
        null);
  }

  /**
   * Takes a snapshot on every member that answers, each of its own state.
   *
   * @return one result per member that answered {@code /status}, by member id
   * @throws RoostException {@code PERMISSION_DENIED} without the right secret, {@code UNAVAILABLE}
   *     when no endpoint answers
   */
  public Map<String, SnapshotResult> snapshotAll() {
    Map<String, SnapshotResult> out = new LinkedHashMap<>();
    List<EndpointStatus> all = statuses();
    for (EndpointStatus s : all) {
      if (s.status().isEmpty()) {
        continue;
      }
      try {
        out.put(
            s.id(),
            new SnapshotResult(
                Optional.of(post(s.endpoint(), "snapshot", SnapshotRequest.getDefaultInstance())),
                Optional.empty()));
      } catch (RoostException e) {
        if (e.code() == StatusCode.PERMISSION_DENIED) {
          throw e;
        }
        out.put(
            s.id(),
            new SnapshotResult(
                Optional.empty(),
                Optional.of(
                    ErrorReply.newBuilder().setCode(e.code()).setMessage(e.getMessage()).build())));
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
            .max(Comparator.comparingLong(s -> s.status().orElseThrow().getTerm()));
    if (leader.isPresent()) {
      return leader.get();
    }
    if (all.stream().allMatch(s -> s.status().isEmpty())) {
      throw unreachable(all);
    }
    String known =
        all.stream()
            .flatMap(s -> s.status().stream())
            .map(MemberStatus::getLeader)
            .filter(l -> !l.isEmpty())
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
   * Sends {@code op} to the leader, finding it again on every attempt, under the retry policy.
   *
   * <p>A membership change the leader answered {@code UNAVAILABLE} may still have been committed
   * (the leader stepped down after logging it, and the next one committed it), so its retry can be
   * refused as already done. When a retry is refused so and {@code done} holds for the leader's
   * members ({@code id=address} each), the change is reported as {@code outcome} rather than as a
   * refusal of a change that did happen.
   *
   * @param id the member the operation is about
   * @param outcome what a change found already done reports, or null if {@code op} changes nothing
   * @param done whether the leader's members show the change made
   */
  private AdminReply onLeader(
      String op, Message request, String id, String outcome, Predicate<List<String>> done) {
    AtomicBoolean retried = new AtomicBoolean();
    return retry.callOnCaller(
        op + " " + id,
        () -> {
          EndpointStatus leader = leader();
          try {
            return post(leader.endpoint(), op, request);
          } catch (RoostException e) {
            if (retried.get()
                && done != null
                && (e.code() == StatusCode.ALREADY_EXISTS || e.code() == StatusCode.NOT_FOUND)) {
              MemberStatus now = leader().status().orElseThrow();
              if (done.test(members(now))) {
                return AdminReply.newBuilder()
                    .setCode(StatusCode.OK)
                    .setOutcome(outcome)
                    .setId(id)
                    .setServer(now.getId())
                    .setTerm(now.getTerm())
                    .setCommitIndex(now.getCommitIndex())
                    .build();
              }
            }
            // UNAVAILABLE from a server: it no longer leads, or it is busy stepping down.
            if (e.code() == StatusCode.UNAVAILABLE) {
              retried.set(true);
            }
            throw e;
          }
        });
  }

  /** The members in a status, as {@code id=PEER/CLIENT}. */
  private static List<String> members(MemberStatus status) {
    return status.getPeersList().stream()
        .map(p -> p.getId() + "=" + p.getAddress() + "/" + p.getClientAddress())
        .toList();
  }

  /** One request to one endpoint: its reply, or its refusal as a RoostException. */
  private AdminReply post(String endpoint, String op, Message request) {
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(URI.create(tls.url(endpoint, "/admin/" + op)))
            .timeout(OPERATION_TIMEOUT)
            .header("Content-Type", ControlJson.CONTENT_TYPE)
            .POST(HttpRequest.BodyPublishers.ofString(ControlJson.print(request)));
    if (secret != null && !secret.isEmpty()) {
      builder.header("Authorization", "Bearer " + secret);
    }
    HttpResponse<String> r;
    try {
      r = http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new RoostException(
          StatusCode.UNAVAILABLE,
          endpoint + " did not answer " + op + ": " + describe(e),
          false,
          null,
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RoostException(StatusCode.UNAVAILABLE, "interrupted", false);
    }
    if (r.statusCode() != 200) {
      ErrorReply error = refusal(r);
      throw new RoostException(error.getCode(), error.getMessage(), false);
    }
    try {
      return ControlJson.parse(r.body(), AdminReply.getDefaultInstance());
    } catch (InvalidProtocolBufferException e) {
      throw new RoostException(
          StatusCode.INTERNAL,
          endpoint + " answered " + op + " with HTTP 200 but no AdminReply: " + r.body().strip(),
          false);
    }
  }

  /**
   * The refusal in a non-200 answer: its {@link ErrorReply}, or, for a body that is none (a proxy's
   * page, a plain-text probe answer), the code of its HTTP status with the body as the message.
   */
  private static ErrorReply refusal(HttpResponse<String> r) {
    try {
      ErrorReply error = ControlJson.parse(r.body(), ErrorReply.getDefaultInstance());
      if (error.getCode() != StatusCode.OK && error.getCode() != StatusCode.UNRECOGNIZED) {
        return error;
      }
    } catch (InvalidProtocolBufferException e) {
      // not an ErrorReply: read the HTTP status below
    }
    StatusCode code = HttpStatus.code(r.statusCode());
    return ErrorReply.newBuilder()
        .setCode(code == StatusCode.OK ? StatusCode.INTERNAL : code)
        .setMessage("HTTP " + r.statusCode() + ": " + r.body().strip())
        .build();
  }

  /** The live voter other than {@code leader} with the highest commit index, per its status. */
  private static String successor(MemberStatus leaderStatus, String leader) {
    return leaderStatus.getMembersList().stream()
        .filter(
            m ->
                !m.getId().equals(leader)
                    && m.getRole() == Role.FOLLOWER
                    && m.getLastContactMs() >= 0
                    && m.getLastContactMs() < LIVE_CONTACT_MS)
        .max(Comparator.comparingLong(MemberProgress::getCommitIndex))
        .map(MemberProgress::getId)
        .orElseThrow(
            () ->
                new RoostException(
                    StatusCode.FAILED_PRECONDITION,
                    leader + " leads and no other live voting member can take over; add one first",
                    false));
  }

  private RoostException unreachable(List<EndpointStatus> all) {
    return new RoostException(
        StatusCode.UNAVAILABLE,
        "no HTTP endpoint answered: "
            + String.join(
                ", ", all.stream().map(s -> s.endpoint() + " (" + s.error() + ")").toList()),
        false);
  }

  private static String describe(ErrorReply error) {
    return error.getCode() + ": " + error.getMessage();
  }

  private static String describe(Exception e) {
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }
}
