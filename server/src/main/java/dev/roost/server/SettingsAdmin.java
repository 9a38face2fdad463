package dev.roost.server;

import dev.roost.api.Peers;
import dev.roost.api.RejectedCommandException;
import dev.roost.domain.Limits;
import dev.roost.proto.AdminReply;
import dev.roost.proto.Command;
import dev.roost.proto.Reply;
import dev.roost.proto.SetSettings;
import dev.roost.proto.Settings;
import dev.roost.proto.StatusCode;
import dev.roost.statemachine.RoostStateMachine;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.rpc.CallId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's settings (post length, quotas, the sessions' bounds): what apply judges writes by,
 * so they live in the replicated state and change only through the log, never per member. This is
 * the one sender the state machine takes them from ({@link RoostStateMachine#acceptSettingsFrom}),
 * in-process, behind the authenticated admin endpoint.
 *
 * <p>A new cluster applies {@link Limits#DEFAULT} until its first leader is ready; that leader then
 * submits its configured values ({@code --max-post-length} and the other {@code --max-*} flags) as
 * "if unset", so the first to commit wins and a later leader's different flags change nothing.
 * After that, {@code roost cluster settings} changes them.
 */
final class SettingsAdmin {
  private static final Logger LOG = LoggerFactory.getLogger(SettingsAdmin.class);

  /** The longest a change of settings may take to commit. */
  static final Duration TIMEOUT = Duration.ofSeconds(15);

  private final RaftServer raft;
  private final RoostStateMachine stateMachine;
  private final ClientId clientId = ClientId.randomId();

  SettingsAdmin(RaftServer raft, RoostStateMachine stateMachine) {
    this.raft = raft;
    this.stateMachine = stateMachine;
    stateMachine.acceptSettingsFrom(clientId);
  }

  /**
   * Changes the settings {@code changes} names (a field left 0 keeps its value) through the log, on
   * the leader; with none named, only shows them.
   *
   * @return the settings in effect afterwards
   * @throws AdminException UNAVAILABLE naming the leader on another member; INVALID_ARGUMENT for a
   *     value that is not positive; DEADLINE_EXCEEDED when the change did not commit in time
   */
  AdminReply update(Settings changes) throws AdminException {
    RaftServer.Division self = division();
    if (!self.getInfo().isLeader()) {
      RaftPeerId leader = self.getInfo().getLeaderId();
      throw AdminException.notLeader(
          self.getId().toString(), leader == null ? null : leader.toString());
    }
    if (!changes.equals(Settings.getDefaultInstance())) {
      Settings wanted = stateMachine.settings().toBuilder().mergeFrom(changes).build();
      Reply reply = await(submit(wanted, false));
      LOG.info(
          "settings: set by {} at term {} index {}: {}",
          self.getId(),
          self.getInfo().getCurrentTerm(),
          reply.getAppliedIndex(),
          oneLine(reply.getSettings()));
    }
    return AdminReply.newBuilder()
        .setOutcome(changes.equals(Settings.getDefaultInstance()) ? "in effect" : "set")
        .setServer(self.getId().toString())
        .setTerm(self.getInfo().getCurrentTerm())
        .setCommitIndex(self.getRaftLog().getLastCommittedIndex())
        .setSettings(stateMachine.settings())
        .build();
  }

  /**
   * On a leader that has just become ready, of a cluster whose settings were never set: submits
   * {@code configured} as "if unset". Returns at once; the outcome is logged.
   */
  void bootstrap(Limits configured) {
    if (stateMachine.configured()) {
      return;
    }
    Settings settings = RoostStateMachine.settingsOf(configured);
    submit(settings, true)
        .whenComplete(
            (reply, failure) -> {
              if (failure != null) {
                LOG.warn(
                    "settings: {} could not set its configured values (the next leader will try):"
                        + " {}",
                    raft.getId(),
                    failure.toString());
              } else {
                LOG.info(
                    "settings: in effect at index {}: {}",
                    reply.getAppliedIndex(),
                    oneLine(reply.getSettings()));
              }
            });
  }

  private CompletableFuture<Reply> submit(Settings settings, boolean ifUnset) {
    Command command =
        Command.newBuilder()
            .setSetSettings(SetSettings.newBuilder().setSettings(settings).setIfUnset(ifUnset))
            .build();
    RaftClientRequest request =
        RaftClientRequest.newBuilder()
            .setClientId(clientId)
            .setServerId(raft.getId())
            .setGroupId(Peers.GROUP_ID)
            .setCallId(CallId.getAndIncrement())
            .setMessage(Message.valueOf(ByteString.copyFrom(command.toByteArray())))
            .setType(RaftClientRequest.writeRequestType())
            .build();
    try {
      return raft.submitClientRequestAsync(request).thenCompose(SettingsAdmin::decode);
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private static CompletableFuture<Reply> decode(RaftClientReply reply) {
    if (!reply.isSuccess()) {
      return CompletableFuture.failedFuture(reply.getException());
    }
    try {
      return CompletableFuture.completedFuture(
          Reply.parseFrom(reply.getMessage().getContent().toByteArray()));
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private Reply await(CompletableFuture<Reply> future) throws AdminException {
    try {
      Reply reply = future.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      if (reply.getCode() != StatusCode.OK) {
        throw new AdminException(reply.getCode(), "settings: " + reply.getMessage());
      }
      return reply;
    } catch (TimeoutException e) {
      throw new AdminException(
          StatusCode.DEADLINE_EXCEEDED,
          "settings: no outcome after " + TIMEOUT.toSeconds() + " s; see roost cluster settings");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AdminException(StatusCode.UNAVAILABLE, "settings: interrupted");
    } catch (ExecutionException e) {
      throw refusal(e.getCause());
    }
  }

  private AdminException refusal(Throwable cause) {
    if (cause instanceof StateMachineException sme
        && sme.getCause() instanceof RejectedCommandException rejected) {
      return new AdminException(rejected.code(), "settings: " + rejected.detail());
    }
    if (cause instanceof NotLeaderException nle) {
      return AdminException.notLeader(
          raft.getId().toString(),
          nle.getSuggestedLeader() == null ? null : nle.getSuggestedLeader().getId().toString());
    }
    LOG.warn("settings: change failed: {}", cause.toString());
    return new AdminException(StatusCode.UNAVAILABLE, "settings: change failed: " + cause);
  }

  private RaftServer.Division division() throws AdminException {
    try {
      return raft.getDivision(Peers.GROUP_ID);
    } catch (IOException e) {
      throw new AdminException(StatusCode.UNAVAILABLE, "this server holds no Roost group yet");
    }
  }

  private static String oneLine(Settings s) {
    return s.toString().replace('\n', ' ').trim();
  }
}
