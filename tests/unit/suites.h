/* Every unit-test group, run in this order by tests/unit/main.c. */
#ifndef TANDEM_TEST_SUITES_H
#define TANDEM_TEST_SUITES_H
int test_core_run(void);
int test_conf_run(void);
int test_sip_msg_run(void);
int test_auth_run(void);
int test_trans_run(void);
int test_registrar_run(void);
int test_dialplan_run(void);
int test_sdp_run(void);
int test_rtp_run(void);
int test_sound_run(void);
int test_play_run(void);
int test_dtmf_run(void);
int test_media_run(void);
int test_mixmon_run(void);
int test_cdr_run(void);
int test_astdb_run(void);
int test_queue_run(void);
int test_vmconf_run(void);
int test_moh_conf_run(void);
int test_presence_run(void);
int test_call_apps_run(void);
int test_call_vm_run(void);
int test_call_queue_run(void);
int test_presence_run(void);
int test_jnl_run(void);
int test_cluster_conf_run(void);
int test_link_run(void);
int test_tftp_run(void);
int test_turn_run(void);
int test_repl_run(void);
int test_role_run(void);
int test_file_run(void);
int test_witness_run(void);
int test_fmanifest_run(void);
int test_call_codec_run(void);

#define TANDEM_SUITES \
	X(core) X(conf) X(sip_msg) X(auth) X(trans) X(registrar) \
	X(dialplan) X(sdp) X(rtp) X(sound) X(play) X(dtmf) X(media) X(mixmon) \
	X(cdr) X(astdb) \
	X(queue) X(vmconf) X(moh_conf) X(presence) \
	X(call_apps) X(call_vm) X(call_queue) X(call_codec) \
	X(jnl) \
	X(cluster_conf) X(link) X(turn) X(repl) X(role) X(file) X(fmanifest) X(witness) \
	X(tftp)
#endif
