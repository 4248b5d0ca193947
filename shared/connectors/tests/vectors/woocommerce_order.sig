xgq5zDc5l0nr8+QUZLE9x/QQhwahA+HzkqUdkALTLKI=
