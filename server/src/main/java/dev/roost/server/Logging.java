package dev.roost.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.rolling.FixedWindowRollingPolicy;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy;
import ch.qos.logback.core.util.FileSize;
import org.slf4j.LoggerFactory;

/**
 * Configures logback in code rather than with a logback.xml: the file name, the levels and the node
 * id all come from {@link ServerConfig}, and a bundled XML file would also configure the logging of
 * every test and tool that has this jar on its class path.
 */
final class Logging {
  private Logging() {}

  /** The log file rolls over at this size... */
  static final String MAX_FILE_SIZE = "64MB";

  /** ...keeping this many older files ({@code roost-n1.1.log} the newest), so at most 384 MB. */
  static final int KEPT_FILES = 5;

  /**
   * Sends every log line to stderr and to the node's log file, which rolls over by size so that a
   * long-running node cannot fill its disk. The node id is written into the pattern itself rather
   * than the MDC, because most lines come from Ratis' own threads.
   */
  static void configure(ServerConfig config) {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    context.reset();
    String pattern =
        "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level " + config.id() + " %logger{36} - %msg%n";

    ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
    console.setTarget("System.err");
    RollingFileAppender<ILoggingEvent> file = new RollingFileAppender<>();
    file.setContext(context);
    file.setFile(config.logFile().toString());
    file.setAppend(true);
    FixedWindowRollingPolicy rolling = new FixedWindowRollingPolicy();
    rolling.setContext(context);
    rolling.setParent(file);
    String name = config.logFile().toString();
    rolling.setFileNamePattern(
        (name.endsWith(".log") ? name.substring(0, name.length() - 4) : name) + ".%i.log");
    rolling.setMinIndex(1);
    rolling.setMaxIndex(KEPT_FILES);
    rolling.start();
    SizeBasedTriggeringPolicy<ILoggingEvent> trigger = new SizeBasedTriggeringPolicy<>();
    trigger.setContext(context);
    trigger.setMaxFileSize(FileSize.valueOf(MAX_FILE_SIZE));
    trigger.start();
    file.setRollingPolicy(rolling);
    file.setTriggeringPolicy(trigger);

    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.toLevel(config.logLevel()));
    root.addAppender(start(console, context, pattern));
    root.addAppender(start(file, context, pattern));
    context.getLogger("org.apache.ratis").setLevel(Level.toLevel(config.raftLogLevel()));
    // Jetty's INFO lines repeat what the start line says; its DEBUG is a line per I/O event.
    context.getLogger("org.eclipse.jetty").setLevel(Level.WARN);
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
