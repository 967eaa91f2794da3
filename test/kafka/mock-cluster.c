/*
 * A Kafka mock cluster for the tests: librdkafka's built-in mock (the same one
 * `kcat -X test.mock.num.brokers=N` starts), with topics of any partition count.
 *
 *   mock-cluster BROKERS TOPIC:PARTITIONS...
 *
 * Prints "bootstrap HOST:PORT,..." on stdout once the topics exist, then keeps the cluster up until
 * stdin reaches end of file (the test closes the pipe, or dies) or a signal ends the process.
 * Compiled at test time by test/kafka/mock-cluster.ts: gcc mock-cluster.c -lrdkafka.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s BROKERS TOPIC:PARTITIONS...\n", argv[0]);
    return 2;
  }
  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  /* The mock cluster needs a client instance to own its threads; a producer that never produces. */
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) {
    fprintf(stderr, "rd_kafka_new: %s\n", errstr);
    return 1;
  }
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, atoi(argv[1]));
  if (!mc) {
    fprintf(stderr, "rd_kafka_mock_cluster_new failed\n");
    return 1;
  }
  for (int i = 2; i < argc; i++) {
    char *colon = strrchr(argv[i], ':');
    if (!colon) {
      fprintf(stderr, "bad topic spec %s (want TOPIC:PARTITIONS)\n", argv[i]);
      return 2;
    }
    *colon = '\0';
    rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, argv[i], atoi(colon + 1), 1);
    if (err) {
      fprintf(stderr, "topic %s: %s\n", argv[i], rd_kafka_err2str(err));
      return 1;
    }
  }
  printf("bootstrap %s\n", rd_kafka_mock_cluster_bootstraps(mc));
  fflush(stdout);
  while (getchar() != EOF) {
  }
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
