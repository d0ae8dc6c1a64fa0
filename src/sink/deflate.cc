#include "sink/deflate.h"

#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>

#include <algorithm>
#include <vector>

namespace strata {

namespace {
constexpr size_t kOutChunk = 256 * 1024;

uint32_t LevelBufferSize(int level) {
  switch (level) {
    case 1: return ISAL_DEF_LVL1_DEFAULT;
    case 2: return ISAL_DEF_LVL2_DEFAULT;
    case 3: return ISAL_DEF_LVL3_DEFAULT;
    default: return 0;
  }
}
}  // namespace

struct Deflater::State {
  isal_zstream stream;
  int level;
  std::vector<uint8_t> level_buffer;
  std::vector<uint8_t> out;
};

Deflater::Deflater(int level) : state_(new State) {
  state_->level = std::clamp(level, 0, ISAL_DEF_MAX_LEVEL);
  state_->level_buffer.resize(LevelBufferSize(state_->level));
  state_->out.resize(kOutChunk);
  Reset();
}

Deflater::~Deflater() = default;

void Deflater::Reset() {
  isal_zstream& s = state_->stream;
  isal_deflate_init(&s);
  s.level = static_cast<uint32_t>(state_->level);
  s.level_buf = state_->level_buffer.empty() ? nullptr : state_->level_buffer.data();
  s.level_buf_size = static_cast<uint32_t>(state_->level_buffer.size());
  s.gzip_flag = IGZIP_DEFLATE;
  s.flush = NO_FLUSH;
}

Status Deflater::Compress(std::string_view input, bool last, const std::function<Status(std::string_view)>& sink) {
  isal_zstream& s = state_->stream;
  s.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(input.data()));
  s.avail_in = static_cast<uint32_t>(input.size());
  s.end_of_stream = last ? 1 : 0;
  for (;;) {
    s.next_out = state_->out.data();
    s.avail_out = static_cast<uint32_t>(state_->out.size());
    const int rc = isal_deflate(&s);
    if (rc != COMP_OK) return Status::Internal("deflate failed with code " + std::to_string(rc));
    const size_t produced = state_->out.size() - s.avail_out;
    if (produced > 0) {
      STRATA_RETURN_IF_ERROR(sink(std::string_view(reinterpret_cast<const char*>(state_->out.data()), produced)));
    }
    const bool finished = last ? s.internal_state.state == ZSTATE_END : (s.avail_in == 0 && s.avail_out != 0);
    if (finished) return Status::Ok();
  }
}

uint32_t Crc32(uint32_t crc, std::string_view data) {
  return crc32_gzip_refl(crc, reinterpret_cast<const unsigned char*>(data.data()), data.size());
}

}  // namespace strata
