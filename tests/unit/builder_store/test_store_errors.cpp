// The profile store on bad ground: garbage, truncated, empty and foreign files, a newer schema,
// a missing or read-only folder, a full disk. Each is a store_error naming the file; nothing is
// half-written.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include "store_test_util.hpp"
#include "support/temp_dir.hpp"

using namespace store_test;
namespace fs = std::filesystem;

namespace {

/// The what() of the store_error that opening `file` throws, or "" when it opens.
std::string open_error(const std::string& file, const bs::store_options& o = {}) {
  try {
    bs::profile_store s = bs::profile_store::open(file, o);
    return "";
  } catch (const bs::store_error& e) {
    CHECK(e.file() == file);
    return e.what();
  }
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

/// A store with `n` successes at `file`.
void make_store(const std::string& file, int n) {
  bs::profile_store s = bs::profile_store::open(file);
  const bs::campaign c = s.begin_campaign(info());
  for (int i = 0; i < n; ++i)
    (void)s.record_success(c, c.key(bs::measurement_purpose::kernel, "conv-bn-relu", config(i)),
                           {result(1.0 + i), "h"});
}

/// Runs `fn` in a child process and returns what it wrote (its result). With
/// `unprivileged`, the child drops root first (to nobody), so file permissions apply to it.
std::string in_child(const std::function<std::string()>& fn, bool unprivileged) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    std::string out;
    try {
      if (unprivileged && geteuid() == 0) {
        if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
          throw std::runtime_error("cannot drop root");
      }
      out = fn();
    } catch (const std::exception& e) {
      out = std::string("child exception: ") + e.what();
    }
    (void)!write(fds[1], out.data(), out.size());
    _exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n = 0;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return out;
}

}  // namespace

TEST_CASE("store errors: a file of garbage bytes is not an SQLite database") {
  nnmeter_test::temp_dir dir("nnmeter_store_err");
  std::string garbage;
  for (int i = 0; i < 8192; ++i) garbage.push_back(static_cast<char>((i * 7919 + 13) % 256));
  const std::string file = dir.write("profile_store.sqlite", garbage);
  const std::string e = open_error(file);
  CHECK(e.rfind(file + ": ", 0) == 0);
  CHECK(contains(e, "is not an SQLite database"));
  // and it was left as it was
  std::ifstream f(file, std::ios::binary);
  CHECK(std::string(std::istreambuf_iterator<char>(f), {}) == garbage);
}

TEST_CASE("store errors: a truncated store is damaged, a zero-byte one is not a store") {
  nnmeter_test::temp_dir dir("nnmeter_store_err");
  const std::string file = dir.file("profile_store.sqlite");
  make_store(file, 300);
  const auto size = fs::file_size(file);
  REQUIRE(size > 8 * 4096);
  for (const std::uintmax_t keep : {size / 2, std::uintmax_t{4096 + 100}, std::uintmax_t{50}}) {
    CAPTURE(keep);
    const std::string copy = dir.file("truncated_" + std::to_string(keep) + ".sqlite");
    fs::copy_file(file, copy);
    fs::resize_file(copy, keep);
    const std::string e = open_error(copy);
    CHECK(e.rfind(copy + ": ", 0) == 0);
    CHECK((contains(e, "damaged") || contains(e, "not an SQLite database")));
  }
  const std::string empty = dir.write("empty.sqlite", "");
  const std::string e = open_error(empty);
  CHECK(contains(e, "is an empty file, not a profile store"));
  CHECK(fs::file_size(empty) == 0);  // not silently turned into a new store
}

TEST_CASE("store errors: another program's SQLite database is not a profile store") {
  nnmeter_test::temp_dir dir("nnmeter_store_err");
  const std::string file = dir.file("other.sqlite");
  REQUIRE(sqlite(file, "CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('hi');").status ==
          0);
  const std::string e = open_error(file);
  CHECK(contains(e, "is an SQLite database but not an nnmeter profile store"));
}

TEST_CASE("store errors: a newer schema version is refused, naming both versions") {
  nnmeter_test::temp_dir dir("nnmeter_store_err");
  const std::string file = dir.file("s.sqlite");
  make_store(file, 2);
  REQUIRE(
      sqlite(file, "UPDATE schema_version SET version = 7, written_by = 'nnmeter 9.0.0';").status ==
      0);
  const std::string e = open_error(file);
  CHECK(contains(
      e,
      "schema version 7 (written by nnmeter 9.0.0) is newer than this nnmeter reads (version 1"));
  CHECK(contains(e, "use a newer nnmeter"));
  REQUIRE(sqlite(file, "DELETE FROM schema_version;").status == 0);
  CHECK(contains(open_error(file), "schema_version table is empty"));
}

TEST_CASE("store errors: a missing folder, a folder as the file, read-only opening of nothing") {
  nnmeter_test::temp_dir dir("nnmeter_store_err");
  const std::string missing = dir.file("no/such/folder/profile_store.sqlite");
  const std::string e = open_error(missing);
  CHECK(e.rfind(missing + ": ", 0) == 0);
  CHECK(contains(e, "folder " + dir.file("no/such/folder") + " does not exist"));
  CHECK_FALSE(fs::exists(dir.file("no")));
  fs::create_directory(dir.file("a_folder"));
  CHECK(contains(open_error(dir.file("a_folder")), "is a folder, not a profile store"));
  bs::store_options ro;
  ro.read_only = true;
  CHECK(contains(open_error(dir.file("absent.sqlite"), ro),
                 "nothing has been measured in this workspace yet"));
  CHECK_FALSE(fs::exists(dir.file("absent.sqlite")));
}

TEST_CASE("store errors: a read-only folder and file: clear errors, nothing changed") {
  nnmeter_test::temp_dir dir("nnmeter_store_err");
  // Root ignores permission bits, so the checks run in a child that drops root (to nobody).
  fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
  const std::string ro_dir = dir.file("readonly");
  fs::create_directory(ro_dir);
  const std::string existing = ro_dir + "/profile_store.sqlite";
  make_store(existing, 3);
  const auto before = fs::file_size(existing);
  fs::permissions(existing, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  fs::permissions(ro_dir, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                              fs::perms::group_exec | fs::perms::others_read |
                              fs::perms::others_exec);
  const std::string created = ro_dir + "/new.sqlite";

  const std::string r = in_child(
      [&] {
        std::string out;
        out += "new=" + open_error(created) + "\n";
        // reading needs no write access: the file alone is the store (no pending -wal)
        bs::store_options ro;
        ro.read_only = true;
        try {
          bs::profile_store s = bs::profile_store::open(existing, ro);
          out += "read_only_rows=" + std::to_string(s.summary().measured) + "\n";
        } catch (const bs::store_error& e) {
          out += std::string("read_only_error=") + e.what() + "\n";
        }
        out += "existing=" + open_error(existing) + "\n";
        return out;
      },
      true);
  INFO(r);
  CHECK(contains(r, "new=" + created + ": cannot create the profile store: its folder " + ro_dir +
                        " is not writable"));
  const std::size_t at = r.find("existing=");
  REQUIRE(at != std::string::npos);
  const std::string existing_error = r.substr(at + 9);
  CHECK(existing_error.rfind(existing + ": ", 0) == 0);
  CHECK((contains(existing_error, "read-only") || contains(existing_error, "not writable")));
  CHECK(contains(r, "read_only_rows=3\n"));
  CHECK_FALSE(fs::exists(created));
  CHECK(fs::file_size(existing) == before);

  // While a writer holds the store open, its newest rows may be in the -wal file: a reader in
  // the read-only folder sees them all, or is told why it cannot; never a stale count.
  fs::permissions(ro_dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(existing, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                fs::perms::others_read);
  bs::profile_store writer = bs::profile_store::open(existing);
  const bs::campaign c = writer.begin_campaign(info());
  (void)writer.record_success(c, c.key(bs::measurement_purpose::kernel, "fc", config(77)),
                              {result(2.0), "h"});
  REQUIRE(fs::file_size(existing + "-wal") > 0);
  fs::permissions(ro_dir, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                              fs::perms::group_exec | fs::perms::others_read |
                              fs::perms::others_exec);
  const std::string r2 = in_child(
      [&] {
        bs::store_options ro;
        ro.read_only = true;
        try {
          bs::profile_store s = bs::profile_store::open(existing, ro);
          return "rows=" + std::to_string(s.summary().measured);
        } catch (const bs::store_error& e) {
          return std::string("error=") + e.what();
        }
      },
      true);
  MESSAGE("a reader in the read-only folder while a writer holds the store: " << r2);
  CHECK((r2 == "rows=4" ||
         contains(r2, "error=" + existing + ": cannot read it: its folder is read-only and " +
                          existing + "-wal holds changes not yet written into the database")));
  fs::permissions(ro_dir, fs::perms::owner_all);
}

TEST_CASE("store errors: a full store (max_page_count) fails the write, records nothing of it") {
  nnmeter_test::temp_dir dir("nnmeter_store_err");
  const std::string file = dir.file("s.sqlite");
  { bs::profile_store s = bs::profile_store::open(file); }
  bs::store_options o;
  o.max_page_count = 12;  // 12 pages of 4 KiB: room for the schema and a few rows
  std::size_t recorded = 0;
  std::string message;
  {
    bs::profile_store s = bs::profile_store::open(file, o);
    const bs::campaign c = s.begin_campaign(info());
    const std::string big(1500, 'x');
    for (int i = 0; i < 1000; ++i) {
      const bs::measurement_key k =
          c.key(bs::measurement_purpose::kernel, "fc",
                bs::canonical_json(nlohmann::json{{"i", i}, {"pad", big}}));
      try {
        (void)s.record_success(c, k, {result(1.0), "h"});
        ++recorded;
      } catch (const bs::store_error& e) {
        CHECK(e.disk_full());
        message = e.what();
        CHECK_FALSE(s.lookup(k).has_value());
        // a failure row does not fit either, and is not half-written
        CHECK_THROWS_AS((void)s.record_failure(c, k, "err", 0), bs::store_error);
        break;
      }
    }
    CHECK(s.measurements().size() == recorded);
  }
  REQUIRE(recorded > 0);
  CHECK(recorded < 1000);
  CHECK(message.rfind(file + ": the disk is full (or the store reached its size limit) while "
                             "recording kernel fc",
                      0) == 0);
  CHECK(contains(message, "nothing of it was recorded"));
  // everything recorded before is intact and readable without the limit
  bs::profile_store s = bs::profile_store::open(file);
  CHECK(s.integrity_check() == "ok");
  CHECK(s.summary().measured == recorded);
  CHECK(s.summary().failed_attempts == 0);
}

TEST_CASE("store errors: a really full disk (a 256 KiB tmpfs) fails the write cleanly") {
  // A private mount namespace (as root, or inside a user namespace otherwise) holds a tmpfs of
  // 256 KiB; the store fills it until the kernel says ENOSPC.
  nnmeter_test::temp_dir dir("nnmeter_store_err");
  const std::string mnt = dir.file("tmpfs");
  fs::create_directory(mnt);
  const std::string r = in_child(
      [&]() -> std::string {
        const uid_t uid = geteuid();
        const gid_t gid = getegid();
        if (uid != 0) {
          if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
            return std::string("setup: unshare: ") + std::strerror(errno);
          std::ofstream("/proc/self/setgroups") << "deny";
          std::ofstream("/proc/self/uid_map") << "0 " << uid << " 1";
          std::ofstream("/proc/self/gid_map") << "0 " << gid << " 1";
        } else if (unshare(CLONE_NEWNS) != 0) {
          return std::string("setup: unshare: ") + std::strerror(errno);
        }
        if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
          return std::string("setup: private mounts: ") + std::strerror(errno);
        if (mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=256k") != 0)
          return std::string("setup: mount tmpfs: ") + std::strerror(errno);
        const std::string file = mnt + "/profile_store.sqlite";
        std::size_t recorded = 0;
        std::string message;
        bool full = false;
        {
          bs::profile_store s = bs::profile_store::open(file);
          const bs::campaign c = s.begin_campaign(info());
          const std::string big(3000, 'y');
          for (int i = 0; i < 100000 && message.empty(); ++i) {
            const bs::measurement_key k =
                c.key(bs::measurement_purpose::kernel, "fc",
                      bs::canonical_json(nlohmann::json{{"i", i}, {"pad", big}}));
            try {
              (void)s.record_success(c, k, {result(1.0), "h"});
              ++recorded;
            } catch (const bs::store_error& e) {
              message = e.what();
              full = e.disk_full();
              if (s.lookup(k)) return "the failed row is there";
            }
          }
          if (s.measurements().size() != recorded) return "row count differs";
        }
        // reopen read-only on the full disk: everything before the failure is there
        bs::store_options ro;
        ro.read_only = true;
        bs::profile_store s = bs::profile_store::open(file, ro);
        return "recorded=" + std::to_string(recorded) + "\nfull=" + (full ? "1" : "0") +
               "\nintegrity=" + s.integrity_check() +
               "\nstored=" + std::to_string(s.summary().measured) + "\nmessage=" + message + "\n";
      },
      false);
  INFO(r);
  REQUIRE(r.rfind("setup:", 0) != 0);  // the environment must allow the tmpfs
  CHECK(contains(r, "full=1\n"));
  CHECK(contains(r, "integrity=ok\n"));
  const std::size_t at = r.find("recorded=");
  REQUIRE(at != std::string::npos);
  const std::string recorded = r.substr(at + 9, r.find('\n', at) - at - 9);
  CHECK(std::stoi(recorded) > 0);
  CHECK(contains(r, "stored=" + recorded + "\n"));
  CHECK(contains(r, "message=" + mnt + "/profile_store.sqlite: the disk is full"));
}
