// C++ consumer: RAII over the C handles, a lambda as progress callback, and the error path.
// Runs against qovery-mock (QOVERY_MOCK_URL) with a database id given as argv[1] that the
// caller registered. Exit status 0 only if every check passed.
#include <qovery_redeploy.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

struct ResultFree {
    void operator()(qovery_result *r) const { qovery_result_free(r); }
};
struct ClientFree {
    void operator()(qovery_client *c) const { qovery_client_free(c); }
};
struct OptionsFree {
    void operator()(qovery_client_options *o) const { qovery_client_options_free(o); }
};
using Result = std::unique_ptr<qovery_result, ResultFree>;
using Client = std::unique_ptr<qovery_client, ClientFree>;
using Options = std::unique_ptr<qovery_client_options, OptionsFree>;

int failures = 0;

void check(bool ok, const char *what) {
    if (!ok) {
        ++failures;
        std::fprintf(stderr, "C++ check failed: %s\n", what);
    }
}

std::string str(const char *s) { return s ? std::string(s) : std::string("(null)"); }

}  // namespace

int main(int argc, char **argv) {
    const char *url = std::getenv("QOVERY_MOCK_URL");
    if (argc != 2 || url == nullptr) {
        std::fprintf(stderr, "usage: QOVERY_MOCK_URL=... %s DATABASE_ID\n", argv[0]);
        return 2;
    }
    const std::string id = argv[1];
    check(str(qovery_version()) == QOVERY_VERSION, "qovery_version() == QOVERY_VERSION");
    static_assert(QOVERY_OK == 0 && QOVERY_ERR_NOT_FOUND == 5 && QOVERY_ERR_PANIC == 18, "codes");

    Options options(qovery_client_options_new());
    check(qovery_client_options_set_token(options.get(), "qovery-mock-token") == QOVERY_OK, "token");
    check(qovery_client_options_set_base_url(options.get(), url) == QOVERY_OK, "base url");
    qovery_client *raw_client = nullptr;
    qovery_result *raw_error = nullptr;
    check(qovery_client_new(options.get(), &raw_client, &raw_error) == QOVERY_OK, "client");
    Client client(raw_client);
    Result error(raw_error);
    check(!error, "no error result on success");

    qovery_wait_options wait;
    qovery_wait_options_init(&wait);
    wait.poll_interval_ms = 20;
    wait.timeout_ms = 30000;
    std::vector<std::string> states;
    auto progress = [](const qovery_result *status, void *user_data) -> int {
        static_cast<std::vector<std::string> *>(user_data)->push_back(str(qovery_result_state(status)));
        return 0;
    };
    Result done(qovery_redeploy_and_wait(client.get(), id.c_str(), nullptr, &wait, progress, &states));
    check(qovery_result_code(done.get()) == QOVERY_OK, qovery_result_message(done.get()));
    check(str(qovery_result_state(done.get())) == "DEPLOYED", "final state DEPLOYED");
    check(str(qovery_result_id(done.get())) == id, "status id");
    check(states.size() >= 2 && states.front() == "QUEUED" && states.back() == "DEPLOYED",
          "progress saw QUEUED first and DEPLOYED last");
    int64_t total = 0;
    check(qovery_result_steps_total_duration_sec(done.get(), &total), "steps.total_duration_sec");

    Result missing(qovery_database_status(client.get(), "00000000-0000-4000-8000-000000000000"));
    check(qovery_result_code(missing.get()) == QOVERY_ERR_NOT_FOUND, "unknown database is not_found");
    check(qovery_result_http_status(missing.get()) == 404, "HTTP 404");
    check(std::strcmp(qovery_code_name(qovery_result_code(missing.get())), "not_found") == 0, "name");

    Result null_id(qovery_redeploy_database(client.get(), nullptr, nullptr));
    check(qovery_result_code(null_id.get()) == QOVERY_ERR_NULL_PARAMETER, "NULL id");

    std::printf("C++ consumer (%s): %zu progress reports, final %s, %d failures\n", argv[0],
                states.size(), str(qovery_result_state(done.get())).c_str(), failures);
    return failures == 0 ? 0 : 1;
}
