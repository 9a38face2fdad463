package dev.roost.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.OutputStreamAppender;
import org.slf4j.LoggerFactory;

/**
 * Configures logback in code rather than with a logback.xml: the file name, the levels and the node
 * id all come from {@link ServerConfig}, and a bundled XML file would also configure the logging of
 * every test and tool that has this jar on its class path.
 */
final class Logging {
  private Logging() {}

  /**
   * Sends every log line to stderr and to the node's log file. The node id is written into the
   * pattern itself rather than the MDC, because most lines come from Ratis' own threads.
   */
  static void configure(ServerConfig config) {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    context.reset();
    String pattern =
        "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level " + config.id() + " %logger{36} - %msg%n";

    ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
    console.setTarget("System.err");
    FileAppender<ILoggingEvent> file = new FileAppender<>();
    file.setFile(config.logFile().toString());
    file.setAppend(true);

    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.toLevel(config.logLevel()));
    root.addAppender(start(console, context, pattern));
    root.addAppender(start(file, context, pattern));
    context.getLogger("org.apache.ratis").setLevel(Level.toLevel(config.raftLogLevel()));
  }

  private static OutputStreamAppender<ILoggingEvent> start(
      OutputStreamAppender<ILoggingEvent> appender, LoggerContext context, String pattern) {
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(pattern);
    encoder.start();
    appender.setContext(context);
    appender.setEncoder(encoder);
    appender.start();
    return appender;
  }
}
