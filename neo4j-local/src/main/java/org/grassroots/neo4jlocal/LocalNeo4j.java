package org.grassroots.neo4jlocal;

import java.io.IOException;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.dbms.api.Neo4jDatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.graphdb.Result;

/**
 * 本地嵌入式 Neo4j / A local, embedded Neo4j Community DBMS with one Bolt connector.
 *
 * <p>Configured by environment variables (see README): NEO4J_LOCAL_HOME, NEO4J_LOCAL_LISTEN,
 * NEO4J_LOCAL_PORT, NEO4J_PAGECACHE, NEO4J_USER, NEO4J_PASSWORD, NEO4J_DATABASE and
 * NEO4J_LOCAL_PARENT_PID. Prints one line "READY bolt://host:port" once the database answers a
 * query, and one line starting with "ERROR" (Chinese first, English beside it) when it cannot
 * start. Exit codes: 0 clean stop, 2 bad setting, 3 port in use, 4 data directory in use,
 * 5 store cannot be opened, 1 anything else.
 */
public final class LocalNeo4j {

    private static final int EXIT_BAD_SETTING = 2;
    private static final int EXIT_PORT_IN_USE = 3;
    private static final int EXIT_HOME_LOCKED = 4;
    private static final int EXIT_STORE_BROKEN = 5;
    private static final int EXIT_OTHER = 1;

    private LocalNeo4j() {
    }

    public static void main(String[] args) {
        Map<String, String> env = System.getenv();
        Path home = Paths.get(env.getOrDefault("NEO4J_LOCAL_HOME", "data/neo4j")).toAbsolutePath();
        String listen = env.getOrDefault("NEO4J_LOCAL_LISTEN", "127.0.0.1");
        String user = env.getOrDefault("NEO4J_USER", "neo4j");
        String password = env.getOrDefault("NEO4J_PASSWORD", "grassroots-local");
        String database = env.getOrDefault("NEO4J_DATABASE", "neo4j");
        int port;
        long pageCache;
        try {
            port = Integer.parseInt(env.getOrDefault("NEO4J_LOCAL_PORT", "7687"));
            pageCache = parseBytes(env.getOrDefault("NEO4J_PAGECACHE", "4g"));
        } catch (IllegalArgumentException e) {
            fail(EXIT_BAD_SETTING, "设置无效 / Invalid setting: " + e.getMessage());
            return;
        }
        if (password.length() < 8) {
            fail(EXIT_BAD_SETTING, "NEO4J_PASSWORD 至少 8 个字符 / NEO4J_PASSWORD must have at least 8 characters.");
        }
        try {
            Files.createDirectories(home);
        } catch (IOException e) {
            fail(EXIT_BAD_SETTING, "无法创建数据目录 / Cannot create the data directory " + home + ": " + e.getMessage());
        }

        DatabaseManagementService dbms;
        try {
            Neo4jDatabaseManagementServiceBuilder builder = new DatabaseManagementServiceBuilder(home);
            Path extra = extraSettingsFile(home, env.getOrDefault("NEO4J_CONFIG", ""));
            if (extra != null) {
                builder = builder.loadPropertiesFromFile(extra);
            }
            dbms = builder
                    .setConfig(BoltConnector.enabled, true)
                    .setConfig(BoltConnector.listen_address, new SocketAddress(listen, port))
                    .setConfig(BoltConnector.advertised_address, new SocketAddress(listen, port))
                    .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                    .setConfig(HttpConnector.enabled, false)
                    .setConfig(HttpsConnector.enabled, false)
                    .setConfig(GraphDatabaseSettings.auth_enabled, true)
                    .setConfig(GraphDatabaseSettings.initial_default_database, database)
                    .setConfig(GraphDatabaseSettings.pagecache_memory, pageCache)
                    .setConfig(GraphDatabaseSettings.keep_logical_logs, "1G size")
                    .build();
        } catch (Throwable t) {
            explainStartFailure(t, home, listen, port);
            return;
        }

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("STOPPING 正在关闭 / shutting down");
            System.out.flush();
            try {
                dbms.shutdown();
            } finally {
                System.out.println("STOPPED 已关闭 / stopped cleanly");
                System.out.flush();
                stopped.countDown();
            }
        }, "neo4j-local-shutdown"));

        try {
            ensureUser(dbms, user, password);
            GraphDatabaseService db = dbms.database(database);
            awaitAvailable(dbms, db, database, home);
            db.executeTransactionally("RETURN 1");
        } catch (Throwable t) {
            explainStartFailure(t, home, listen, port);
        }

        watchParent(env.get("NEO4J_LOCAL_PARENT_PID"));
        System.out.println("READY bolt://" + listen + ":" + port + " home=" + home);
        System.out.flush();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Extra Neo4j settings from NEO4J_CONFIG ("name=value;name=value", neo4j.conf names), written to
     * HOME/neo4j-extra.conf for Neo4j to read (and check); null when there are none.
     */
    static Path extraSettingsFile(Path home, String raw) throws IOException {
        StringBuilder conf = new StringBuilder();
        for (String part : raw.split(";")) {
            String item = part.trim();
            if (item.isEmpty()) {
                continue;
            }
            if (item.indexOf('=') <= 0) {
                throw new IllegalArgumentException("NEO4J_CONFIG item without name=value: " + item);
            }
            conf.append(item).append('\n');
        }
        if (conf.length() == 0) {
            return null;
        }
        Path file = home.resolve("neo4j-extra.conf");
        Files.writeString(file, conf.toString());
        return file;
    }

    /** Sets the configured user's password, creating the user if needed (Community has no roles). */
    private static void ensureUser(DatabaseManagementService dbms, String user, String password) {
        GraphDatabaseService system = dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
        system.executeTransactionally("CREATE USER $user IF NOT EXISTS SET PASSWORD $password CHANGE NOT REQUIRED",
                Map.of("user", user, "password", password));
        try {
            system.executeTransactionally("ALTER USER $user SET PASSWORD $password CHANGE NOT REQUIRED",
                    Map.of("user", user, "password", password));
        } catch (RuntimeException e) {
            String msg = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
            if (!msg.contains("same")) {
                throw e;
            }
        }
    }

    /** Waits for the database to come online; a database that went offline with an error fails at once. */
    private static void awaitAvailable(DatabaseManagementService dbms, GraphDatabaseService db, String database,
            Path home) {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(30);
        while (!db.isAvailable(500)) {
            String[] status = databaseStatus(dbms, database);
            boolean failed = !status[0].equals("online") && !status[0].equals("starting") && !status[1].isBlank();
            if (failed || System.nanoTime() > deadline) {
                fail(EXIT_STORE_BROKEN, "数据库无法打开,存储可能已损坏 / The database '" + database + "' in " + home
                        + " could not be opened (" + status[0] + ": " + status[1]
                        + "): the store may be corrupt. Restore a backup, or move " + home
                        + " away to start with an empty database.");
            }
        }
    }

    private static String[] databaseStatus(DatabaseManagementService dbms, String database) {
        try {
            GraphDatabaseService system = dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
            return system.executeTransactionally(
                    "SHOW DATABASE $name YIELD currentStatus, statusMessage RETURN currentStatus, statusMessage",
                    Map.of("name", database),
                    (Result r) -> {
                        if (!r.hasNext()) {
                            return new String[] {"unknown", ""};
                        }
                        Map<String, Object> row = r.next();
                        return new String[] {String.valueOf(row.get("currentStatus")),
                            row.get("statusMessage") == null ? "" : String.valueOf(row.get("statusMessage"))};
                    });
        } catch (RuntimeException e) {
            return new String[] {"unknown", ""};
        }
    }

    /** Exits cleanly when the process that started us is gone, so no orphan keeps the port. */
    private static void watchParent(String parentPid) {
        if (parentPid == null || parentPid.isBlank()) {
            return;
        }
        long pid = Long.parseLong(parentPid.trim());
        Thread watcher = new Thread(() -> {
            while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
            }
            System.out.println("PARENT-GONE 启动进程已退出 / parent process " + pid + " is gone");
            System.exit(0);
        }, "neo4j-local-parent-watch");
        watcher.setDaemon(true);
        watcher.start();
    }

    private static void explainStartFailure(Throwable t, Path home, String listen, int port) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            String name = c.getClass().getSimpleName();
            String msg = String.valueOf(c.getMessage());
            if (c instanceof BindException || name.equals("PortBindException") || msg.contains("Address already in use")) {
                fail(EXIT_PORT_IN_USE, "端口已被占用 / Port " + port + " on " + listen
                        + " is already in use: stop the program that holds it, or set NEO4J_LOCAL_PORT to a free port.");
            }
            if (name.equals("FileLockException") || msg.contains("locked by another process")) {
                fail(EXIT_HOME_LOCKED, "数据目录正被另一个 Neo4j 进程使用 / The data directory " + home
                        + " is in use by another Neo4j process: stop that process, or set NEO4J_LOCAL_HOME to another directory.");
            }
        }
        t.printStackTrace(System.err);
        fail(EXIT_STORE_BROKEN, "Neo4j 启动失败 / Neo4j could not start from " + home + " (" + rootMessage(t)
                + "): if the store is damaged, restore a backup or move the directory away to start empty.");
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null) {
            c = c.getCause();
        }
        return c.getClass().getSimpleName() + ": " + c.getMessage();
    }

    static long parseBytes(String text) {
        String s = text.trim().toLowerCase(Locale.ROOT);
        long unit = 1;
        char last = s.isEmpty() ? ' ' : s.charAt(s.length() - 1);
        if (last == 'k' || last == 'm' || last == 'g') {
            unit = last == 'k' ? 1L << 10 : last == 'm' ? 1L << 20 : 1L << 30;
            s = s.substring(0, s.length() - 1);
        }
        try {
            long value = Long.parseLong(s) * unit;
            if (value <= 0) {
                throw new NumberFormatException();
            }
            return value;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("NEO4J_PAGECACHE='" + text + "' (expected e.g. 512m or 4g)");
        }
    }

    private static void fail(int code, String sentence) {
        System.out.println("ERROR " + sentence);
        System.out.flush();
        System.err.flush();
        System.exit(code);
    }
}
