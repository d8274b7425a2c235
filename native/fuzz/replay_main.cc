// Replays inputs through a fuzz target without libFuzzer (any compiler,
// with ASan and UBSan): every file named, and every file in every directory
// named. Exit 0 when every input ran clean. Used by `npm test` to replay the
// crash inputs kept in test/fuzz/corpus/<target>/.
#include <dirent.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static int RunFile(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return 0;
  std::vector<uint8_t> bytes;
  uint8_t buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) bytes.insert(bytes.end(), buf, buf + n);
  std::fclose(f);
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  return 1;
}

int main(int argc, char** argv) {
  int ran = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      DIR* d = opendir(argv[i]);
      while (struct dirent* e = d ? readdir(d) : nullptr) {
        if (e->d_name[0] == '.') continue;
        ran += RunFile(std::string(argv[i]) + "/" + e->d_name);
      }
      if (d) closedir(d);
    } else {
      ran += RunFile(argv[i]);
    }
  }
  std::printf("replayed %d inputs\n", ran);
  return 0;
}
